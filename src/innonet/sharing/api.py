"""JSON endpoints for agreements, cluster consent and the audit log."""

from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.sharing import service
from innonet.sharing.models import Agreement, AuditEvent
from innonet.sharing.schemas import (
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    AuditEventOut,
    AuditFilter,
    ClusterConsentIn,
    ClusterConsentOut,
)
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router()


def _out(session: Session, viewer: Viewer, agreement: Agreement) -> AgreementOut:
    return service.agreement_view(session, viewer, agreements=[agreement])[0]


@router.get("/agreements", response_model=list[AgreementOut], tags=["agreements"])
def list_agreements(session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[AgreementOut]:
    """The agreements your organisations are party to."""
    return service.agreement_view(session, viewer, agreements=service.list_agreements(session, viewer))


@router.post("/agreements", response_model=AgreementOut, status_code=201, tags=["agreements"])
def create_agreement(data: AgreementIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> AgreementOut:
    """Record an agreement (the owner's admins, write token)."""
    return _out(session, viewer, service.create_agreement(session, viewer, data=data))


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, tags=["agreements"])
def get_agreement(agreement_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> AgreementOut:
    """One agreement your organisation is party to (404 otherwise)."""
    return _out(session, viewer, service.get_agreement(session, viewer, agreement_id=agreement_id))


@router.patch("/agreements/{agreement_id}", response_model=AgreementOut, tags=["agreements"])
def update_agreement(agreement_id: RecordId, changes: AgreementPatch, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> AgreementOut:
    """Change status, dates or documents (the owner's admins). Terminating it, or an end
    date in the past, ends at once every access that depends on it."""
    return _out(session, viewer, service.update_agreement(session, viewer, agreement_id=agreement_id,
                                                          changes=changes))


@router.put("/orgs/{external_id}/cluster-consent", response_model=ClusterConsentOut,
            tags=["organisations"])
def set_cluster_consent(external_id: str, data: ClusterConsentIn, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> ClusterConsentOut:
    """Give or withdraw consent to count our network in the cluster manager's aggregates."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    service.set_cluster_consent(session, viewer, organisation=organisation, consent=data.consent)
    return ClusterConsentOut(consent=organisation.cluster_consent_at is not None,
                             since=organisation.cluster_consent_at)


@router.get("/orgs/{external_id}/audit", response_model=list[AuditEventOut], tags=["organisations"])
def audit_log(external_id: str, filters: Annotated[AuditFilter, Query()],
              session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[AuditEvent]:
    """Who read or changed the organisation's records, newest first (its admins; the newest
    500 that pass the filters)."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    return service.audit_events(session, viewer, organisation_id=organisation.id, filters=filters)


