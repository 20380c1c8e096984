"""Pages: relationship forms, the project list and project pages."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from innonet.collaborations import service
from innonet.collaborations.schemas import RelationshipFields, RelationshipIn
from innonet.errors import InnonetError
from innonet.organisations import service as organisations
from innonet.web import DbSession, field_errors, is_htmx, redirect_with_flash, render

router = APIRouter(include_in_schema=False)
PER_PAGE = 25


def _form_page(request, *, organisation, relationship=None, partner=None, values=None,
               errors=None, status_code=200):
    return render(request, "relationship_form.html", {
        "org": organisation, "relationship": relationship, "partner": partner,
        "values": values or {"direction": "mutual", "strength": 3}, "errors": errors or {}},
        status_code=status_code)


def _clean(form) -> dict:
    """Form fields as the schema wants them: empty inputs are absent values."""
    return {k: (v if v != "" else None) for k, v in form.items()
            if k in RelationshipIn.model_fields}


@router.get("/orgs/{external_id}/relationships/new", response_class=HTMLResponse)
def new_relationship(request: Request, external_id: str, session: Session = DbSession):
    organisation = organisations.get_organisation(session, external_id=external_id)
    return _form_page(request, organisation=organisation)


@router.post("/orgs/{external_id}/relationships/new", response_class=HTMLResponse)
async def create_relationship(request: Request, external_id: str, session: Session = DbSession):
    organisation = organisations.get_organisation(session, external_id=external_id)
    values = _clean(await request.form()) | {"organisation": external_id}
    try:
        data = RelationshipIn(**{k: v for k, v in values.items() if v is not None})
        rel = service.create_relationship(session, data=data)
    except ValidationError as error:
        return _form_page(request, organisation=organisation, values=values,
                          errors=field_errors(error), status_code=422)
    except InnonetError as error:
        return _form_page(request, organisation=organisation, values=values,
                          errors={p.field: p.message for p in error.problems if p.field}
                          or {"partner": error.message}, status_code=error.status_code)
    return redirect_with_flash(request, f"/orgs/{external_id}#relationships",
                               f"Relationship added (#{rel.id}).")


@router.get("/relationships/{relationship_id}/edit", response_class=HTMLResponse)
def edit_relationship(request: Request, relationship_id: int, session: Session = DbSession):
    view = service.relationship_view(session, relationships=[
        service.get_relationship(session, relationship_id=relationship_id)])[0]
    values = {k: view[k] for k in RelationshipFields.model_fields}
    return _form_page(request, organisation=view["organisation"], relationship=view,
                      partner=view["partner"], values=values)


@router.post("/relationships/{relationship_id}/edit", response_class=HTMLResponse)
async def update_relationship(request: Request, relationship_id: int, session: Session = DbSession):
    view = service.relationship_view(session, relationships=[
        service.get_relationship(session, relationship_id=relationship_id)])[0]
    form = _clean(await request.form())
    values = {k: form.get(k) for k in RelationshipFields.model_fields}
    try:
        service.update_relationship(session, relationship_id=relationship_id, changes=values)
    except InnonetError as error:
        if error.status_code == 404:
            raise
        return _form_page(request, organisation=view["organisation"], relationship=view,
                          partner=view["partner"], values=values, status_code=error.status_code,
                          errors={p.field: p.message for p in error.problems if p.field})
    return redirect_with_flash(request, f"/orgs/{view['organisation'].external_id}#relationships",
                               "Relationship saved.")


@router.post("/relationships/{relationship_id}/delete", response_class=HTMLResponse)
def delete_relationship(request: Request, relationship_id: int, session: Session = DbSession):
    view = service.relationship_view(session, relationships=[
        service.get_relationship(session, relationship_id=relationship_id)])[0]
    service.delete_relationship(session, relationship_id=relationship_id)
    return redirect_with_flash(request, f"/orgs/{view['organisation'].external_id}#relationships",
                               "Relationship deleted.")


@router.get("/projects", response_class=HTMLResponse)
def projects(request: Request, session: Session = DbSession,
             q: str | None = Query(None, max_length=200), page: int = Query(1, ge=1, le=100_000)):
    items, total = service.search_projects(session, q=q, page=page, per_page=PER_PAGE)
    context = {"items": items, "total": total, "page": page, "filters": {"q": q or ""},
               "pages": max(1, -(-total // PER_PAGE))}
    return render(request, "_project_results.html" if is_htmx(request) else "projects.html", context)


@router.get("/projects/{external_id}", response_class=HTMLResponse)
def project_page(request: Request, external_id: str, session: Session = DbSession):
    return render(request, "project.html", {"project": service.project_detail(session, external_id=external_id)})
