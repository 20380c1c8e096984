"""Pages: Find partners — a need, filters and weights in; explained partners out."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, QueryParams

from innonet import roles
from innonet.accounts import service as accounts
from innonet.countries import all_countries
from innonet.errors import InnonetError, InvalidInput
from innonet.matching import factors, service
from innonet.matching.models import Need
from innonet.matching.schemas import NeedIn, NeedQuery
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.text import parse_record_id
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    field_errors,
    is_htmx,
    redirect_with_flash,
    refused_form,
    render,
)

router = APIRouter(include_in_schema=False)

FLAGS = ("sme_only", "exclude_competitors", "new_partners_only")
LISTS = ("kinds", "preferred_countries", "excluded_countries")


def _query_from(params: QueryParams | FormData) -> dict:
    """The form's fields (query string or posted form) as NeedQuery input: repeated fields
    as lists, boxes as booleans, one ``w_<factor>`` field per weight."""
    data: dict[str, object] = {name: params.getlist(name) for name in LISTS}
    data |= {name: params.get(name) in ("on", "true", "1") for name in FLAGS}
    data |= {name: params[name] for name in ("need", "k", "preset", "max_per_project")
             if params.get(name)}
    data["weights"] = {name: params[f"w_{name}"] for name in factors.FACTORS
                       if params.get(f"w_{name}", "") != ""}
    return data


@router.get("/orgs/{external_id}/partners", response_class=HTMLResponse)
def find_partners(request: Request, external_id: str, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    data = _query_from(request.query_params)
    need = None
    if need_id := request.query_params.get("need_id", "").strip():
        # A saved need fills the form; the goal, weights and k stay as given.
        if (record_id := parse_record_id(need_id)) is None:
            raise InvalidInput.for_field("need_id", "not the number of a saved need")
        need = service.get_need(session, viewer, need_id=record_id)
        stored = service.query_for_need(need).model_dump(include={
            "need", "kinds", "preferred_countries", "excluded_countries", "sme_only",
            "exclude_competitors"})
        data |= stored
    # The form was sent (an empty need too: the finder then takes the stated needs, else the
    # profile, and the results say which) or a saved need was opened.
    searched = "need" in request.query_params or bool(need_id)
    return _page(request, session, viewer, organisation, data, searched=searched, need=need)


def _page(request: Request, session: Session, viewer: Viewer, organisation: Organisation, data: dict, *,
          searched: bool, save_errors: dict[str, str] | None = None, status_code: int = 200,
          fragment: bool | None = None, title: str = "", need: Need | None = None) -> Response:
    errors, found = {}, None
    try:
        query = NeedQuery(**data)
    except ValidationError as error:
        errors, status_code, query = field_errors(error), 422, NeedQuery()
    if searched and not errors:
        found = service.recommendations(session, viewer, external_id=organisation.external_id,
                                        query=query)
    insider = viewer.is_operator or organisation.id in viewer.member_of
    # Actions on each partner: who could answer a request for an introduction, what the
    # open need already keeps on its shortlist.
    answerable: set[str] = set()
    if found and insider:
        introducers = {r.introduction_path[1].external_id for r in found.results
                       if len(r.introduction_path) > 2}
        ids = organisations.ids_by_external_id(session, external_ids=sorted(introducers))
        with_members = accounts.organisations_with_members(session, ids=ids.values())
        answerable = {e for e, i in ids.items() if i in with_members}
    shortlist = service.shortlist(session, viewer, need=need) if need is not None else []
    context = {"org": organisation, "query": query, "form": data, "errors": errors,
               "found": found, "FACTORS": factors.FACTORS, "PRESETS": factors.PRESETS,
               "PRESET_LABELS": factors.PRESET_LABELS, "countries": all_countries(),
               "searched": searched, "can_save": insider and viewer.can_write,
               "open_need": need, "shortlist": shortlist, "answerable": answerable,
               "shortlisted": {o.external_id for o, _ in shortlist},
               "save_errors": save_errors or {}, "title": title,
               "needs": service.list_needs(session, viewer, external_id=organisation.external_id)}
    fragment = is_htmx(request) if fragment is None else fragment
    template = "_partner_results.html" if fragment else "find_partners.html"
    return render(request, template, context, status_code=status_code)


@router.post("/orgs/{external_id}/needs", response_class=HTMLResponse)
def save_need(request: Request, external_id: str, session: Session = DbSession,
              viewer: Viewer = CurrentViewer,
              form: FormData = PostedForm) -> Response:
    """Save the need in the search form (its words and filters) for the organisation."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id)
    search = _query_from(form)
    data = {"organisation": external_id, "title": form.get("title", ""),
            "description": search.get("need"), "partner_kinds": search["kinds"],
            "visibility": form.get("visibility") or "private"} | {
        name: search[name] for name in ("preferred_countries", "excluded_countries",
                                         "sme_only", "exclude_competitors")}
    try:
        with session.begin_nested():  # a refused share leaves no half-written need
            need = service.create_need(session, viewer, data=NeedIn(**data))
    except (ValidationError, InnonetError) as error:
        # The results the need gave stay on the page beside what to correct.
        errors, status = refused_form(session, error, "title")
        return _page(request, session, viewer, organisation, search, searched=True, save_errors=errors,
                     status_code=status, fragment=False, title=data["title"])
    return redirect_with_flash(request, f"/orgs/{external_id}/partners?need_id={need.id}",
                               f"Need saved (#{need.id}): {need.title}.")



@router.post("/needs/{need_id}/shortlist")
def add_to_shortlist(request: Request, need_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    partner = str(form.get("partner") or "")
    need = service.get_need(session, viewer, need_id=need_id, for_change=True)
    owner = organisations.organisations_by_id(session, ids=[need.organisation_id])[need.organisation_id]
    added = service.add_to_shortlist(session, viewer, need_id=need_id, partner=partner)
    name = organisations.get_organisation(session, external_id=partner).name
    return redirect_with_flash(
        request, f"/orgs/{owner.external_id}/partners?need_id={need_id}#shortlist",
        f"{name} is on the shortlist." if added else f"{name} was on the shortlist already.")


@router.post("/needs/{need_id}/shortlist/{external_id}/remove")
def remove_from_shortlist(request: Request, need_id: RecordId, external_id: str,
                          session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    need = service.get_need(session, viewer, need_id=need_id, for_change=True)
    owner = organisations.organisations_by_id(session, ids=[need.organisation_id])[need.organisation_id]
    service.remove_from_shortlist(session, viewer, need_id=need_id, partner=external_id)
    return redirect_with_flash(request, f"/orgs/{owner.external_id}/partners?need_id={need_id}#shortlist",
                               "Taken off the shortlist.")
