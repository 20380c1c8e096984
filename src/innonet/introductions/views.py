"""Pages: ask for a warm introduction from a partner result; the requests and answers."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet.errors import InnonetError
from innonet.introductions import service
from innonet.introductions.models import STATUSES
from innonet.introductions.schemas import IntroductionAccept, IntroductionIn
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    field_errors,
    form_text,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(INTRODUCTION_STATUSES=STATUSES)


@router.get("/introductions", response_class=HTMLResponse)
def introductions(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    views = service.introduction_view(session, viewer,
                                      requests=service.list_introductions(session, viewer))
    return render(request, "introductions.html", {"items": views})


@router.post("/introductions", response_class=HTMLResponse)
def request_introduction(request: Request, session: Session = DbSession,
                         viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    """Sent from a partner result; a refusal comes back on a page that keeps the note."""
    values = {name: form_text(form, name) for name in ("asker", "introducer", "target", "note")}
    try:
        with session.begin_nested():
            made = service.request_introduction(session, viewer, data=IntroductionIn(
                **{k: v for k, v in values.items() if v is not None}))
    except (ValidationError, InnonetError) as error:
        # An organisation not found (404) is the form's to correct.
        errors, status = refused_form(session, error, "note", elsewhere=frozenset({401, 403}))
        return _ask_page(request, session, values, errors, status)
    return redirect_with_flash(request, f"/introductions/{made.id}",
                               "Request sent: their members will find it in their inbox.")


def _ask_page(request: Request, session: Session, values: dict, errors: dict, status_code: int) -> Response:
    ids = [v for k, v in values.items() if k != "note" and v]
    found = organisations.ids_by_external_id(session, external_ids=ids)
    names = {o.external_id: o.name
             for o in organisations.organisations_by_id(session, ids=found.values()).values()}
    return render(request, "introduction_ask.html", {"values": values, "errors": errors,
                                                     "names": names}, status_code=status_code)


def _detail_page(request: Request, session: Session, viewer: Viewer, request_id: int, *, values: dict | None = None,
                 errors: dict | None = None, status_code: int = 200) -> Response:
    found = service.get_introduction(session, viewer, request_id=request_id)
    view = service.introduction_view(session, viewer, requests=[found])[0]
    return render(request, "introduction.html", {"r": view, "values": values or {},
                                                 "errors": errors or {}}, status_code=status_code)


@router.get("/introductions/{request_id}", response_class=HTMLResponse)
def introduction(request: Request, request_id: RecordId, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer) -> Response:
    return _detail_page(request, session, viewer, request_id)


@router.post("/introductions/{request_id}/accept", response_class=HTMLResponse)
def accept(request: Request, request_id: RecordId, session: Session = DbSession,
           viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    values = {name: form_text(form, name) for name in ("contact", "reply")}
    try:
        data = IntroductionAccept(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as error:
        return _detail_page(request, session, viewer, request_id, values=values,
                            errors=field_errors(error), status_code=422)
    service.accept(session, viewer, request_id=request_id, data=data)
    return redirect_with_flash(request, f"/introductions/{request_id}",
                               "Introduced: both sides now see each other's contact person.")


@router.post("/introductions/{request_id}/decline")
def decline(request: Request, request_id: RecordId, session: Session = DbSession,
            viewer: Viewer = CurrentViewer) -> Response:
    service.decline(session, viewer, request_id=request_id)
    return redirect_with_flash(request, f"/introductions/{request_id}",
                               "Declined: they are told “not now”, nothing more.")
