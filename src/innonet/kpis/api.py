"""JSON endpoints: an organisation's KPIs for any period, the catalogue, and the figures
people enter (joint-project costs and revenues, yearly sales of new products, targets,
alert thresholds)."""

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Response
from sqlalchemy.orm import Session

from innonet.kpis import alerts, cluster, health, report, service
from innonet.kpis.models import Alert, InnovativeSales
from innonet.kpis.schemas import (
    AlertOut,
    CatalogueOut,
    CheckInIn,
    CheckInsOut,
    ClusterKpisOut,
    FinanceIn,
    FinanceOut,
    KpisOut,
    PartnershipDetailOut,
    PartnershipOut,
    ProjectHealthOut,
    SalesIn,
    SalesOut,
    TargetIn,
    ThresholdsIn,
)
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router(tags=["KPIs and partnership health"])
Period = Annotated[str | None, Query(max_length=10, description=(
    "A year (2026) or a quarter (2026Q3); default: this quarter"))]
KpiName = Annotated[str, Path(max_length=40)]
Year = Annotated[int, Path(ge=1990, le=2100)]


@router.get("/kpis", response_model=list[CatalogueOut])
def catalogue() -> list[CatalogueOut]:
    """Every KPI with its definition: what it counts, its unit and which way is better."""
    return [CatalogueOut(kpi=key, **asdict(spec)) for key, spec in service.CATALOGUE.items()]


@router.get("/orgs/{external_id}/kpis", response_model=KpisOut)
def kpis(external_id: str, period: Period = None,
         session: Session = DbSession, viewer: Viewer = CurrentViewer) -> KpisOut:
    """The organisation's KPIs for a period, each with its trend, target and status, the
    idea funnel and the partner portfolio beside the EU innovation survey (its members only)."""
    return service.organisation_kpis(session, viewer, external_id=external_id, period=period)


@router.get("/joint-projects/{project_id}/finance", response_model=list[FinanceOut])
def finance(project_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[FinanceOut]:
    """Your parties' own costs and revenues of the project (no party reads another's)."""
    return service.finance_of(session, viewer, project_id=project_id)


@router.put("/joint-projects/{project_id}/finance", response_model=list[FinanceOut])
def set_finance(project_id: RecordId, data: FinanceIn,
                organisation: Annotated[str | None, Query(max_length=64, description=(
                    "The party you enter them for, if you are a member of several"))] = None,
                session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[FinanceOut]:
    """Enter your party's costs and revenues: estimated at the start, realised at the close (euros)."""
    service.set_finance(session, viewer, project_id=project_id, data=data, organisation=organisation)
    return service.finance_of(session, viewer, project_id=project_id)


def _sales_out(row: InnovativeSales) -> SalesOut:
    return SalesOut(year=row.year, turnover=row.turnover, new_to_market=row.new_to_market,
                    new_to_firm=row.new_to_firm,
                    innovative_sales_share=(row.new_to_market + row.new_to_firm) / row.turnover)


@router.get("/orgs/{external_id}/sales", response_model=list[SalesOut])
def sales(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[SalesOut]:
    """The yearly turnover and sales of new products entered, newest first."""
    return [_sales_out(r) for r in service.sales_of(session, viewer, external_id=external_id)]


@router.put("/orgs/{external_id}/sales", response_model=SalesOut)
def set_sales(external_id: str, data: SalesIn,
              session: Session = DbSession, viewer: Viewer = CurrentViewer) -> SalesOut:
    """Enter or correct one year's turnover and sales of new products (euros)."""
    return _sales_out(service.set_sales(session, viewer, external_id=external_id, data=data))


@router.delete("/orgs/{external_id}/sales/{year}", status_code=204)
def delete_sales(external_id: str, year: Year,
                 session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    service.delete_sales(session, viewer, external_id=external_id, year=year)
    return Response(status_code=204)


@router.put("/orgs/{external_id}/kpis/{kpi}/target", response_model=TargetIn)
def set_target(external_id: str, kpi: KpiName, data: TargetIn, session: Session = DbSession,
               viewer: Viewer = CurrentViewer) -> TargetIn:
    """Set the value aimed for on one KPI (shares as fractions: 0.25 is 25 %)."""
    return TargetIn(target=service.set_target(session, viewer, external_id=external_id, kpi=kpi, data=data).target)


@router.delete("/orgs/{external_id}/kpis/{kpi}/target", status_code=204)
def delete_target(external_id: str, kpi: KpiName,
                  session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    service.delete_target(session, viewer, external_id=external_id, kpi=kpi)
    return Response(status_code=204)


@router.get("/orgs/{external_id}/alert-thresholds", response_model=ThresholdsIn)
def thresholds(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ThresholdsIn:
    """When the daily check raises each alert (the defaults until changed)."""
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    return service.thresholds_of(session, organisation_id=organisation.id)


@router.put("/orgs/{external_id}/alert-thresholds", response_model=ThresholdsIn)
def set_thresholds(external_id: str, data: ThresholdsIn, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> ThresholdsIn:
    """Change the alert thresholds (the organisation's administrators)."""
    return service.set_thresholds(session, viewer, external_id=external_id, data=data)


@router.get("/orgs/{external_id}/partnerships", response_model=list[PartnershipOut])
def partnerships(external_id: str,
                 session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[PartnershipOut]:
    """Every partnership (a relationship recorded, or a running joint project shared) with its
    health from 0 to 100 and each factor's points and reason, weakest first."""
    return health.partnerships(session, viewer, external_id=external_id)


@router.get("/orgs/{external_id}/partnerships/{partner}", response_model=PartnershipDetailOut)
def partnership(external_id: str, partner: Annotated[str, Path(max_length=64)], session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> PartnershipDetailOut:
    """One partnership's health and its check-ins (the other side's answers for a quarter
    are shown once yours is given)."""
    return health.partnership(session, viewer, external_id=external_id, partner=partner)


@router.post("/orgs/{external_id}/partnerships/{partner}/check-ins", response_model=CheckInsOut, status_code=201)
def check_in(external_id: str, partner: Annotated[str, Path(max_length=64)], data: CheckInIn,
             session: Session = DbSession, viewer: Viewer = CurrentViewer) -> CheckInsOut:
    """Answer this quarter's check-in on a partnership (1-5 on value, trust, communication and
    fairness); once per quarter. Returns the answers you may now read."""
    health.answer_partnership(session, viewer, external_id=external_id, partner=partner, data=data)
    return health.partnership(session, viewer, external_id=external_id, partner=partner).check_ins


@router.get("/joint-projects/{project_id}/health", response_model=ProjectHealthOut)
def project_health(project_id: RecordId,
                   session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ProjectHealthOut:
    """The project's health from 0 to 100 with each factor's points and reason, and its check-ins."""
    return health.project_health(session, viewer, project_id=project_id)


@router.post("/joint-projects/{project_id}/check-ins", response_model=CheckInsOut, status_code=201)
def project_check_in(project_id: RecordId, data: CheckInIn, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> CheckInsOut:
    """Answer this quarter's check-in on the project for your party; once per quarter."""
    health.answer_project(session, viewer, project_id=project_id, data=data)
    return health.project_health(session, viewer, project_id=project_id).check_ins


@router.get("/orgs/{external_id}/alerts", response_model=list[AlertOut])
def alert_list(external_id: str, closed: Annotated[bool, Query(description="Dismissed and cleared ones too")] = False,
               session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[Alert]:
    """The alerts of the daily check, newest first, each with its evidence and suggested action."""
    return alerts.alerts_of(session, viewer, external_id=external_id, include_closed=closed)


@router.post("/orgs/{external_id}/alerts/{alert_id}/dismiss", response_model=AlertOut)
def dismiss_alert(external_id: str, alert_id: RecordId,
                  session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Alert:
    """Set an alert aside: it is not raised again until its cause has gone and come back."""
    return alerts.dismiss(session, viewer, external_id=external_id, alert_id=alert_id)


ReportFormat = Literal["csv", "html", "pdf"]


def _report_answer(session: Session, viewer: Viewer, *, external_id: str | None, period: str | None,
                   format: str) -> Response:
    return report.answer(session, viewer, external_id=external_id, period=period, format=format,
                         job_address=lambda job: f"/api/v1/jobs/{job.id}/file")


REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "PDF: follow to /api/v1/jobs/{id}/file, 202 while it is written, then the file"},
    200: {"content": {"text/csv": {}, "text/html": {}}}}


@router.get("/orgs/{external_id}/report", responses=REPORT_RESPONSES, response_class=Response)
def organisation_report(external_id: str, period: Period = None, format: ReportFormat = "html",
                        session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """The organisation's quarterly report (its members): the KPIs with their trends and
    targets, alerts, the survey comparison and partnership health, as HTML or CSV at once,
    or as PDF written by a background job."""
    return _report_answer(session, viewer, external_id=external_id, period=period, format=format)


@router.get("/cluster/kpis", response_model=ClusterKpisOut)
def cluster_kpis(period: Period = None, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ClusterKpisOut:
    """The KPIs aggregated over the organisations that consent to be counted (cluster
    managers): counts summed, other figures the members' median, none made of fewer than
    three members; and the cluster's network over time."""
    return cluster.cluster_kpis(session, viewer, period=period)


@router.get("/cluster/report", responses=REPORT_RESPONSES, response_class=Response)
def cluster_report(period: Period = None, format: ReportFormat = "html", session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> Response:
    """The cluster's quarterly report (cluster managers), as HTML, CSV or PDF (a job)."""
    return _report_answer(session, viewer, external_id=None, period=period, format=format)
