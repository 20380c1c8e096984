"""Pages: the profile forms (the directory, which searches projects too, is collaborations')."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet import roles
from innonet.countries import all_countries
from innonet.errors import InnonetError
from innonet.organisations import service
from innonet.organisations.models import KINDS, Organisation
from innonet.organisations.schemas import OrganisationFields, OrganisationIn
from innonet.roles import Viewer
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(KINDS=KINDS)
PER_PAGE = 25


def _form_page(request: Request, *, organisation: Organisation | None = None, values: dict | None = None,
               errors: dict | None = None, status_code: int = 200) -> Response:
    return render(request, "org_form.html", {
        "organisation": organisation, "values": values or {}, "errors": errors or {},
        "countries": all_countries()}, status_code=status_code)


def _form_values(form: FormData) -> dict:
    # An empty optional field is an absent value (an empty id would fail its pattern).
    values: dict[str, object] = {k: (None if v == "" and k != "name" else v) for k, v in form.items()
                                 if k in OrganisationIn.model_fields}
    values["is_sme"] = {"yes": True, "no": False}.get(str(form.get("is_sme", "")))
    return values


@router.get("/orgs/new", response_class=HTMLResponse)
def new_organisation(request: Request, viewer: Viewer = CurrentViewer) -> Response:
    roles.ensure_network_member(viewer)
    return _form_page(request)


@router.post("/orgs/new", response_class=HTMLResponse)
def create_organisation(request: Request, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer,
                        form: FormData = PostedForm) -> Response:
    roles.ensure_network_member(viewer)
    values = _form_values(form)
    try:
        organisation = service.create_organisation(session, viewer, data=OrganisationIn(**values))
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "name", elsewhere=frozenset())
        return _form_page(request, values=values, errors=errors, status_code=status)
    return redirect_with_flash(request, f"/orgs/{organisation.external_id}",
                               f"{organisation.name} was added.")


@router.get("/orgs/{external_id}/edit", response_class=HTMLResponse)
def edit_organisation(request: Request, external_id: str, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> Response:
    organisation = service.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id, admin=True, platform_admin_too=True)
    values = {field: getattr(organisation, field) for field in OrganisationFields.model_fields}
    return _form_page(request, organisation=organisation, values=values)


@router.post("/orgs/{external_id}/edit", response_class=HTMLResponse)
def update_organisation(request: Request, external_id: str, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer,
                        form: FormData = PostedForm) -> Response:
    organisation = service.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id, admin=True, platform_admin_too=True)
    values = _form_values(form)
    values.pop("external_id", None)
    try:
        service.update_organisation(session, viewer, external_id=external_id, changes=values)
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        return _form_page(request, organisation=organisation, values=values,
                          status_code=error.status_code,
                          errors={p.field: p.message for p in error.problems if p.field})
    return redirect_with_flash(request, f"/orgs/{external_id}", "Your changes were saved.")
