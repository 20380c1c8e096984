"""JSON endpoints: ask for a warm introduction, and answer one."""

from sqlalchemy.orm import Session

from innonet.introductions import service
from innonet.introductions.models import IntroductionRequest
from innonet.introductions.schemas import IntroductionAccept, IntroductionIn, IntroductionOut
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router(tags=["introductions"])


def _out(session: Session, viewer: Viewer, request: IntroductionRequest) -> IntroductionOut:
    return service.introduction_view(session, viewer, requests=[request])[0]


@router.post("/introductions", response_model=IntroductionOut, status_code=201)
def request_introduction(data: IntroductionIn, session: Session = DbSession,
                         viewer: Viewer = CurrentViewer) -> IntroductionOut:
    """Ask the introducer (a partner of yours or of the target) to introduce your
    organisation to the target. Private to the three organisations; at most
    10 requests per organisation in 24 hours (429 beyond)."""
    return _out(session, viewer, service.request_introduction(session, viewer, data=data))


@router.get("/introductions", response_model=list[IntroductionOut])
def list_introductions(session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[IntroductionOut]:
    """Requests your organisations sent or received, and introductions made to them."""
    return service.introduction_view(session, viewer,
                                     requests=service.list_introductions(session, viewer))


@router.get("/introductions/{request_id}", response_model=IntroductionOut)
def get_introduction(request_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> IntroductionOut:
    """One request you are party to (404 otherwise)."""
    return _out(session, viewer, service.get_introduction(session, viewer, request_id=request_id))


@router.post("/introductions/{request_id}/accept", response_model=IntroductionOut)
def accept(request_id: RecordId, data: IntroductionAccept, session: Session = DbSession,
           viewer: Viewer = CurrentViewer) -> IntroductionOut:
    """Introduce them (the introducer's members): the asker gets the target's contact
    person, the target the asker's, both the note."""
    return _out(session, viewer, service.accept(session, viewer, request_id=request_id, data=data))


@router.post("/introductions/{request_id}/decline", response_model=IntroductionOut)
def decline(request_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> IntroductionOut:
    """Not now (the introducer's members): the asker learns nothing more."""
    return _out(session, viewer, service.decline(session, viewer, request_id=request_id))
