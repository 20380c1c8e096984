"""JSON endpoints: partner recommendations for one organisation."""

from typing import Annotated

from fastapi import Query, Response
from sqlalchemy.orm import Session

from innonet.matching import service
from innonet.matching.models import Need
from innonet.matching.schemas import (
    NeedIn,
    NeedOut,
    NeedPatch,
    NeedQuery,
    Preset,
    Recommendations,
    ShortlistEntryOut,
)
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router(tags=["partner finder"])


@router.get("/orgs/{external_id}/recommendations", response_model=Recommendations)
def recommendations(
    external_id: str,
    session: Session = DbSession,
    viewer: Viewer = CurrentViewer,
    need: Annotated[str | None, Query(max_length=5000, description=(
        "What you are looking for; empty uses the organisation's stated needs, else its "
        "profile and projects"))] = None,
    k: Annotated[int, Query(ge=1, le=service.MAX_K)] = 20,
    preset: Preset = "balanced",
    new_partners_only: bool = False,
    max_per_project: Annotated[int, Query(ge=0, le=10, description=(
        "At most this many of the first ten partners owing their fit to one project; "
        "0: no limit"))] = 3,
) -> Recommendations:
    """Partners for this organisation, best first, each with its factors (0–1), their
    reasons, the introduction path and a due-diligence panel."""
    return service.recommendations(session, viewer, external_id=external_id, query=NeedQuery(
        need=need, k=k, preset=preset, new_partners_only=new_partners_only,
        max_per_project=max_per_project))


@router.post("/orgs/{external_id}/recommendations", response_model=Recommendations)
def search_partners(external_id: str, query: NeedQuery, session: Session = DbSession,
                    viewer: Viewer = CurrentViewer) -> Recommendations:
    """The same for a full need: partner kinds, preferred and excluded countries, SMEs
    only, competitors left out, and the weight of each factor. Nothing is stored."""
    return service.recommendations(session, viewer, external_id=external_id, query=query)


def _need_out(session: Session, viewer: Viewer, need: Need) -> NeedOut:
    return service.need_view(session, viewer, needs=[need])[0]


@router.get("/orgs/{external_id}/needs", response_model=list[NeedOut])
def list_needs(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[NeedOut]:
    """An organisation's innovation needs that you may see, newest first."""
    return service.need_view(session, viewer,
                             needs=service.list_needs(session, viewer, external_id=external_id))


@router.post("/needs", response_model=NeedOut, status_code=201)
def create_need(data: NeedIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> NeedOut:
    """Record an innovation need (members of the organisation, write token); private
    unless ``visibility`` says otherwise."""
    return _need_out(session, viewer, service.create_need(session, viewer, data=data))


@router.get("/needs/{need_id}", response_model=NeedOut)
def get_need(need_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> NeedOut:
    """One need, if you may see it (404 otherwise)."""
    return _need_out(session, viewer, service.get_need(session, viewer, need_id=need_id))


@router.patch("/needs/{need_id}", response_model=NeedOut)
def update_need(need_id: RecordId, changes: NeedPatch, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> NeedOut:
    """Change some fields or the sharing of a need (the owner's members)."""
    need = service.update_need(session, viewer, need_id=need_id,
                               changes=changes.model_dump(exclude_unset=True))
    return _need_out(session, viewer, need)


@router.delete("/needs/{need_id}", status_code=204)
def delete_need(need_id: RecordId, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> Response:
    """Delete a need (the owner's members)."""
    service.delete_need(session, viewer, need_id=need_id)
    return Response(status_code=204)


@router.get("/needs/{need_id}/recommendations", response_model=Recommendations)
def need_recommendations(need_id: RecordId, session: Session = DbSession,
                         viewer: Viewer = CurrentViewer,
                         k: Annotated[int, Query(ge=1, le=service.MAX_K)] = 20,
                         preset: Preset = "balanced", new_partners_only: bool = False) -> Recommendations:
    """Partners for a stored need you may see, with the need's own filters."""
    return service.need_recommendations(session, viewer, need_id=need_id, k=k, preset=preset,
                                        new_partners_only=new_partners_only)


@router.get("/needs/{need_id}/shortlist", response_model=list[ShortlistEntryOut])
def shortlist(need_id: RecordId, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> list[ShortlistEntryOut]:
    """The organisations kept on a need's shortlist, in the order they were added."""
    need = service.get_need(session, viewer, need_id=need_id)
    return [ShortlistEntryOut(organisation=OrganisationSummary.model_validate(o), added_at=e.added_at)
            for o, e in service.shortlist(session, viewer, need=need)]


@router.put("/needs/{need_id}/shortlist/{external_id}", status_code=204)
def add_to_shortlist(need_id: RecordId, external_id: str, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> Response:
    """Keep an organisation on the shortlist (the need's owner's members); adding it twice
    changes nothing."""
    service.add_to_shortlist(session, viewer, need_id=need_id, partner=external_id)
    return Response(status_code=204)


@router.delete("/needs/{need_id}/shortlist/{external_id}", status_code=204)
def remove_from_shortlist(need_id: RecordId, external_id: str, session: Session = DbSession,
                          viewer: Viewer = CurrentViewer) -> Response:
    """Take an organisation off the shortlist (404 when it is not on it)."""
    service.remove_from_shortlist(session, viewer, need_id=need_id, partner=external_id)
    return Response(status_code=204)
