"""Pages: Find partners — a need, filters and weights in; explained partners out."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from innonet.countries import all_countries
from innonet.matching import factors, service
from innonet.matching.schemas import NeedQuery
from innonet.organisations import service as organisations
from innonet.sharing.policy import Viewer
from innonet.web import CurrentViewer, DbSession, field_errors, is_htmx, render

router = APIRouter(include_in_schema=False)

FLAGS = ("sme_only", "exclude_competitors", "new_partners_only")
LISTS = ("kinds", "preferred_countries", "excluded_countries")


def _query_from(request: Request) -> dict:
    """The form's fields as NeedQuery input: repeated fields as lists, boxes as booleans,
    one ``w_<factor>`` field per weight."""
    params = request.query_params
    data = {name: params.getlist(name) for name in LISTS}
    data |= {name: params.get(name) in ("on", "true", "1") for name in FLAGS}
    data |= {name: params[name] for name in ("need", "k", "preset") if params.get(name)}
    data["weights"] = {name: params[f"w_{name}"] for name in factors.FACTORS
                       if params.get(f"w_{name}", "") != ""}
    return data


@router.get("/orgs/{external_id}/partners", response_class=HTMLResponse)
def find_partners(request: Request, external_id: str, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer):
    organisation = organisations.get_organisation(session, external_id=external_id)
    searched = "need" in request.query_params
    data = _query_from(request)
    errors, found, status = {}, None, 200
    try:
        query = NeedQuery(**data)
    except ValidationError as error:
        errors, status, query = field_errors(error), 422, NeedQuery()
    if searched and not errors:
        found = service.recommendations(session, viewer, external_id=external_id, query=query)
    context = {"org": organisation, "query": query, "form": data, "errors": errors,
               "found": found, "FACTORS": factors.FACTORS, "PRESETS": factors.PRESETS,
               "PRESET_LABELS": factors.PRESET_LABELS, "countries": all_countries(),
               "searched": searched}
    template = "_partner_results.html" if is_htmx(request) else "find_partners.html"
    return render(request, template, context, status_code=status)
