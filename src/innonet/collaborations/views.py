"""Pages: the home page, organisation pages (profile with partners, projects and
relationships), relationship forms, projects, and the cluster's aggregates."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet import roles
from innonet.collaborations import service
from innonet.collaborations.models import (
    DIRECTIONS,
    PARTICIPATION_ROLES,
    RELATIONSHIP_KINDS,
)
from innonet.collaborations.schemas import RelationshipFields, RelationshipIn, RelationshipOut
from innonet.errors import InnonetError
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.sharing.schemas import SharingFields
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    form_ids,
    is_htmx,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(RELATIONSHIP_KINDS=RELATIONSHIP_KINDS, DIRECTIONS=DIRECTIONS, ROLES=PARTICIPATION_ROLES)
PER_PAGE = 25


def _form_page(request: Request, session: Session, viewer: Viewer, *,
               organisation: Organisation | OrganisationSummary, relationship: RelationshipOut | None = None,
               partner: Organisation | OrganisationSummary | None = None,
               values: dict | None = None, errors: dict | None = None, status_code: int = 200) -> Response:
    if values and isinstance(values.get("shared_with"), list):  # shown as typed: ids and spaces
        values = values | {"shared_with": " ".join(values["shared_with"])}
    # Sharing a relationship with its partner is the usual case: propose it first.
    suggestions = [{"value": partner.external_id, "label": partner.name,
                    "hint": "the relationship's partner"}] if partner is not None else []
    return render(request, "relationship_form.html", {
        "org": organisation, "relationship": relationship, "partner": partner,
        "share_suggestions": suggestions,
        "values": values or {"direction": "mutual", "strength": 3, "visibility": "private"},
        "errors": errors or {},
        "agreement_options": [(a.id, f"{a.title} (#{a.id})")
                              for a in sharing.list_agreements(session, viewer)]},
        status_code=status_code)


def _clean(form: FormData) -> dict:
    """Form fields as the schema wants them: empty inputs are absent values; the
    organisations to share with are typed as external ids separated by spaces or commas."""
    values: dict[str, object] = {k: (v if v != "" else None) for k, v in form.items()
                                 if k in RelationshipIn.model_fields}
    values["shared_with"] = form_ids(form, "shared_with")
    return values


def _editable(session: Session, viewer: Viewer, relationship_id: RecordId) -> RelationshipOut:
    rel = service.get_relationship(session, viewer, relationship_id=relationship_id, for_change=True)
    return service.relationship_view(session, viewer, relationships=[rel])[0]


def _form_values(view: RelationshipOut) -> dict:
    return view.model_dump(include={*RelationshipFields.model_fields, "visibility", "agreement"}) | {
        "shared_with": " ".join(o.external_id for o in view.shared_with)}


@router.get("/orgs/{external_id}/relationships/new", response_class=HTMLResponse)
def new_relationship(request: Request, external_id: str, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer,
                     partner: str = Query("", max_length=64), notes: str = Query("", max_length=500)) -> Response:
    """The form, prefilled from a partner result (its partner and why it was found);
    private until it is shared."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id)
    values = {"direction": "mutual", "strength": 3, "visibility": "private",
              "partner": partner.strip() or None, "notes": notes.strip() or None}
    return _form_page(request, session, viewer, organisation=organisation, values=values)


@router.post("/orgs/{external_id}/relationships/new", response_class=HTMLResponse)
def create_relationship(request: Request, external_id: str, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer,
                        form: FormData = PostedForm) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id)
    values = _clean(form) | {"organisation": external_id}
    try:
        data = RelationshipIn(**{k: v for k, v in values.items() if v is not None})
        with session.begin_nested():  # a refused share leaves no half-written relationship
            rel = service.create_relationship(session, viewer, data=data)
    except (ValidationError, InnonetError) as error:
        # An unknown partner (404) or a share the policy refuses (403) is the form's to correct.
        errors, status = refused_form(session, error, "partner", elsewhere=frozenset())
        return _form_page(request, session, viewer, organisation=organisation, values=values,
                          errors=errors, status_code=status)
    return redirect_with_flash(request, f"/orgs/{external_id}#relationships",
                               f"Relationship added (#{rel.id}).")


@router.get("/relationships/{relationship_id}/edit", response_class=HTMLResponse)
def edit_relationship(request: Request, relationship_id: RecordId, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> Response:
    view = _editable(session, viewer, relationship_id)
    return _form_page(request, session, viewer, organisation=view.organisation, relationship=view,
                      partner=view.partner, values=_form_values(view))


@router.post("/relationships/{relationship_id}/edit", response_class=HTMLResponse)
def update_relationship(request: Request, relationship_id: RecordId, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer,
                        form: FormData = PostedForm) -> Response:
    view = _editable(session, viewer, relationship_id)
    cleaned = _clean(form)
    values = {k: cleaned.get(k) for k in (*RelationshipFields.model_fields, *SharingFields.model_fields)}
    values["visibility"] = values["visibility"] or "private"
    try:
        with session.begin_nested():  # all of the change, or none of it
            service.update_relationship(session, viewer, relationship_id=relationship_id,
                                        changes=values)
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        return _form_page(request, session, viewer, organisation=view.organisation,
                          relationship=view, partner=view.partner, values=values,
                          status_code=error.status_code,
                          errors={p.field: p.message for p in error.problems if p.field})
    return redirect_with_flash(request, f"/orgs/{view.organisation.external_id}#relationships",
                               "Relationship saved.")


@router.post("/relationships/{relationship_id}/delete", response_class=HTMLResponse)
def delete_relationship(request: Request, relationship_id: RecordId, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> Response:
    view = _editable(session, viewer, relationship_id)
    service.delete_relationship(session, viewer, relationship_id=relationship_id)
    return redirect_with_flash(request, f"/orgs/{view.organisation.external_id}#relationships",
                               "Relationship deleted.")


@router.get("/orgs", response_class=HTMLResponse)
def directory(
    request: Request,
    session: Session = DbSession,
    q: str | None = Query(None, max_length=200),
    country: str | None = Query(None, max_length=2),
    kind: str | None = Query(None, max_length=40),
    sme: str | None = Query(None, pattern="^(yes|no)?$"),
    page: int = Query(1, ge=1, le=100_000),
    viewer: Viewer = CurrentViewer,
) -> Response:
    """The directory: each word searched in names, ids, cities, VAT numbers, descriptions
    and the titles of the organisations' projects; the words found are marked."""
    sme_flag = {"yes": True, "no": False}.get(sme or "")
    found, where = service.search_directory(session, q=q, country=country or None,
                                            kind=kind or None, sme=sme_flag, page=page,
                                            per_page=PER_PAGE)
    filters = {"q": q or "", "country": country or "", "kind": kind or "", "sme": sme or ""}
    context = {"found": found, "items": found.items, "page": page, "per_page": PER_PAGE,
               "pages": found.pages(PER_PAGE), "where": where,
               "words": organisations.search_words(q), "filters": filters,
               "countries": organisations.overview(session).countries_by_name}
    return render(request, "_org_results.html" if is_htmx(request) else "directory.html", context)


@router.get("/projects", response_class=HTMLResponse)
def projects(request: Request, session: Session = DbSession,
             q: str | None = Query(None, max_length=200), page: int = Query(1, ge=1, le=100_000)) -> Response:
    found = service.search_projects(session, q=q, page=page, per_page=PER_PAGE)
    context = {"found": found, "items": found.items, "page": page, "per_page": PER_PAGE,
               "filters": {"q": q or ""}, "pages": found.pages(PER_PAGE)}
    return render(request, "_project_results.html" if is_htmx(request) else "projects.html", context)


@router.get("/projects/{external_id}", response_class=HTMLResponse)
def project_page(request: Request, external_id: str, session: Session = DbSession) -> Response:
    return render(request, "project.html", {"project": service.project_detail(session, external_id=external_id)})


# ---------------------------------------------------------------- the home page, organisation pages


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    counts = {"organisations": organisations.count_organisations(session)} | service.counts(session, viewer)
    # The next steps start from the viewer's own organisation when they have one.
    own = organisations.organisations_by_id(session, ids=[min(viewer.member_of)]).popitem()[1] \
        if viewer.member_of else None
    return render(request, "home.html", {"counts": counts, "own": own,
                                         "overview": organisations.overview(session)})


@router.get("/orgs/{external_id}", response_class=HTMLResponse)
def organisation_page(request: Request, external_id: str, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> Response:
    detail = service.organisation_detail(session, viewer, external_id=external_id,
                                                partners_limit=50, projects_limit=50)
    organisation_id = organisations.get_organisation(session, external_id=external_id).id
    owner_ids = organisations.ids_by_external_id(
        session, external_ids=[r.organisation.external_id for r in detail.relationships])
    return render(request, "organisation.html", {
        "org": detail, "is_insider": organisation_id in viewer.member_of,
        "editable": {r.id for r in detail.relationships
                     if owner_ids[r.organisation.external_id] in viewer.member_of},
        "is_admin": viewer.admin_of(organisation_id),
        # A platform admin gives a new organisation its first admin, from its members page.
        "can_manage": viewer.admin_of(organisation_id) or viewer.is_platform_admin})


# ---------------------------------------------------------------- cluster manager


@router.get("/cluster", response_class=HTMLResponse)
def cluster(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    return render(request, "cluster.html", {"summary": service.cluster_summary(session, viewer)})
