"""Pages: agreements, the audit log and cluster consent."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet import roles
from innonet.errors import InnonetError, InvalidInput
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.sharing import service
from innonet.sharing.models import (
    AGREEMENT_KINDS,
    AGREEMENT_STATUSES,
    AUDIT_ACTIONS,
    VISIBILITIES,
    AuditEvent,
)
from innonet.sharing.schemas import AgreementIn, AgreementPatch, AuditFilter
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    csv_download,
    field_errors,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(VISIBILITIES=VISIBILITIES)


# ---------------------------------------------------------------- audit log and consent


def _audit_filters(request: Request) -> tuple[AuditFilter, dict[str, str]]:
    """The filters in the address, or none and what to correct."""
    try:
        return AuditFilter.model_validate(dict(request.query_params)), {}
    except ValidationError as error:
        return AuditFilter(), field_errors(error)


@router.get("/orgs/{external_id}/audit", response_class=HTMLResponse)
def audit_page(request: Request, external_id: str, session: Session = DbSession,
               viewer: Viewer = CurrentViewer) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    filters, errors = _audit_filters(request)
    try:
        events = service.audit_events(session, viewer, organisation_id=organisation.id, filters=filters)
    except InvalidInput as error:
        errors = {p.field or "since": p.message for p in error.problems}
        events = service.audit_events(session, viewer, organisation_id=organisation.id)
    return render(request, "audit.html", {
        "organisation": organisation, "events": events, "errors": errors,
        "values": dict(request.query_params), "filtered": bool(request.query_params) and not errors,
        "actions": [(a, a) for a in AUDIT_ACTIONS], "item_types": AuditEvent.ITEM_TYPES,
        "query": request.url.query}, status_code=422 if errors else 200)


@router.get("/orgs/{external_id}/audit.csv")
def audit_csv(request: Request, external_id: str, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    filters, errors = _audit_filters(request)
    if errors:
        raise InvalidInput.for_field(*next(iter(errors.items())))
    events = service.audit_events(session, viewer, organisation_id=organisation.id,
                                  filters=filters, limit=None)
    return csv_download(service.audit_csv(events), f"audit-{organisation.external_id}.csv")


@router.post("/orgs/{external_id}/cluster-consent")
def cluster_consent(request: Request, external_id: str, session: Session = DbSession,
                    viewer: Viewer = CurrentViewer,
                    form: FormData = PostedForm) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    consent = form.get("consent") == "yes"
    service.set_cluster_consent(session, viewer, organisation=organisation, consent=consent)
    return redirect_with_flash(request, f"/orgs/{external_id}/members",
                               "Consent given." if consent else "Consent withdrawn.")


# ---------------------------------------------------------------- agreements


def _agreements_page(request: Request, session: Session, viewer: Viewer, *,
                     values: dict[str, str | None] | None = None,
                     errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    roles.ensure_signed_in(viewer)
    agreements = service.agreement_view(session, viewer, agreements=service.list_agreements(session, viewer))
    admin_of = [o for o in organisations.organisations_by_id(
        session, ids=[o for o, role in viewer.roles.items() if role == "admin"]).values()]
    return render(request, "agreements.html", {
        "agreements": agreements, "admin_of": sorted(admin_of, key=lambda o: o.name),
        "admin_ids": {o.external_id for o in admin_of},
        "kinds": AGREEMENT_KINDS, "statuses": AGREEMENT_STATUSES,
        "values": values or {"status": "draft"}, "errors": errors or {}}, status_code=status_code)


@router.get("/agreements", response_class=HTMLResponse)
def agreements(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    return _agreements_page(request, session, viewer)


@router.post("/agreements", response_class=HTMLResponse)
def create_agreement(request: Request, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer,
                     form: FormData = PostedForm) -> Response:
    roles.ensure_can_write(viewer)
    values = {k: (str(v).strip() or None) for k, v in form.items() if k != "csrf_token"}
    data = values | {"parties": (values.get("parties") or "").replace(",", " ").split()}
    try:
        with session.begin_nested():
            agreement = service.create_agreement(session, viewer, data=AgreementIn(
                **{k: v for k, v in data.items() if v is not None}))
    except (ValidationError, InnonetError) as error:
        # A party not found (404) is the form's to correct.
        errors, status = refused_form(session, error, "owner", elsewhere=frozenset({401, 403}))
        return _agreements_page(request, session, viewer, values=values, errors=errors, status_code=status)
    return redirect_with_flash(request, "/agreements", f"Agreement #{agreement.id} recorded.")


@router.post("/agreements/{agreement_id}/status")
def change_agreement_status(request: Request, agreement_id: RecordId, session: Session = DbSession,
                            viewer: Viewer = CurrentViewer,
                            form: FormData = PostedForm) -> Response:
    status = str(form.get("status") or "")
    try:
        changes = AgreementPatch(status=status)
    except ValidationError:
        return redirect_with_flash(request, "/agreements", f"Unknown status {status!r}.")
    service.update_agreement(session, viewer, agreement_id=agreement_id, changes=changes)
    return redirect_with_flash(request, "/agreements",
                               f"Agreement #{agreement_id} is now {AGREEMENT_STATUSES[status].lower()}.")


