"""Pages: an organisation's KPIs with their trends, alerts and actions, the figures it
enters, its partnerships with their health and check-ins, a joint project's health, the
quarterly report and the cluster manager's KPIs."""

from collections.abc import Callable, Iterable

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet.errors import InnonetError
from innonet.kpis import alerts, cluster, health, report, service
from innonet.kpis.models import CHECKIN_QUESTIONS
from innonet.kpis.schemas import CheckInIn, SalesIn, TargetIn, ThresholdsIn
from innonet.roles import Viewer
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    form_fields,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(KPI_GROUPS=service.GROUPS, CHECKIN_QUESTIONS=CHECKIN_QUESTIONS)
PeriodQuery = Query(None, max_length=10)
SAVED_CHECK_IN = "Check-in saved: the other side's answers for this quarter are shown once they give theirs."



def _kpis_page(request: Request, session: Session, viewer: Viewer, *, external_id: str, period: str | None,
               errors: dict | None = None, values: dict | None = None, status_code: int = 200) -> HTMLResponse:
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    found = service.kpis_of(session, viewer, organisation=organisation, period=period)
    return render(request, "kpis.html", {
        "o": organisation, "found": found, "errors": errors or {}, "values": values or {},
        "alerts": alerts.open_alerts(session, organisation_id=organisation.id),
        "partnerships": health.partnership_rows(session, viewer, organisation=organisation),
        "thresholds": service.thresholds_of(session, organisation_id=organisation.id),
        "may_set_thresholds": viewer.can_write and viewer.admin_of(organisation.id)}, status_code=status_code)


@router.get("/orgs/{external_id}/kpis", response_class=HTMLResponse)
def kpis_page(request: Request, external_id: str, period: str | None = PeriodQuery, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    return _kpis_page(request, session, viewer, external_id=external_id, period=period)


def _entered(request: Request, session: Session, viewer: Viewer, *, external_id: str, form: FormData,
             names: Iterable[str], save: Callable[[dict[str, str]], object], done: str, field: str) -> Response:
    """Save what one of the KPI page's forms entered, or show the page again with what went wrong."""
    values = form_fields(form, names)
    period = str(form.get("period") or "")[:10] or None
    try:
        save(values)
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, field)
        return _kpis_page(request, session, viewer, external_id=external_id, period=period,
                          errors=errors, values=values, status_code=status)
    return redirect_with_flash(request, f"/orgs/{external_id}/kpis?period={period or ''}{done}", "Saved.")


@router.post("/orgs/{external_id}/kpis/sales", response_class=HTMLResponse)
def enter_sales(request: Request, external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer,
                form: FormData = PostedForm) -> Response:
    return _entered(request, session, viewer, external_id=external_id, form=form, names=SalesIn.model_fields,
                    done="#outcomes", field="turnover", save=lambda values: service.set_sales(
                        session, viewer, external_id=external_id, data=SalesIn.model_validate(values)))


@router.post("/orgs/{external_id}/kpis/thresholds", response_class=HTMLResponse)
def set_thresholds(request: Request, external_id: str, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    return _entered(request, session, viewer, external_id=external_id, form=form, names=ThresholdsIn.model_fields,
                    done="#thresholds", field="decay_months", save=lambda values: service.set_thresholds(
                        session, viewer, external_id=external_id, data=ThresholdsIn.model_validate(values)))


@router.post("/orgs/{external_id}/kpis/{kpi}/target", response_class=HTMLResponse)
def set_target(request: Request, external_id: str, kpi: str, session: Session = DbSession,
               viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    def save(values: dict) -> None:
        if not values.get("target"):
            service.delete_target(session, viewer, external_id=external_id, kpi=kpi[:40])
            return
        service.set_target(session, viewer, external_id=external_id, kpi=kpi[:40], data=TargetIn.model_validate(values))

    return _entered(request, session, viewer, external_id=external_id, form=form, names=("target",),
                    done=f"#kpi-{kpi[:40]}", field="target", save=save)


@router.post("/orgs/{external_id}/alerts/{alert_id}/dismiss", response_class=HTMLResponse)
def dismiss_alert(request: Request, external_id: str, alert_id: RecordId, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    alerts.dismiss(session, viewer, external_id=external_id, alert_id=alert_id)
    return redirect_with_flash(request, f"/orgs/{external_id}/kpis#alerts",
                               "Alert set aside: it comes back only if its cause goes and returns.")


@router.get("/orgs/{external_id}/report")
def report_page(request: Request, external_id: str, period: str | None = PeriodQuery, format: str = "html",
                session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """The quarterly report: the document itself, its CSV, or its PDF (written by a job)."""
    return _report(session, viewer, external_id=external_id, period=period, format=format)


@router.get("/cluster/report")
def cluster_report_page(period: str | None = PeriodQuery, format: str = "html", session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> Response:
    return _report(session, viewer, external_id=None, period=period, format=format)


def _report(session: Session, viewer: Viewer, *, external_id: str | None, period: str | None,
            format: str) -> Response:
    return report.answer(session, viewer, external_id=external_id, period=period, format=format,
                         job_address=lambda job: f"/jobs/{job.id}")


@router.get("/cluster/kpis", response_class=HTMLResponse)
def cluster_page(request: Request, period: str | None = PeriodQuery, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer) -> Response:
    return render(request, "cluster_kpis.html", {"found": cluster.cluster_kpis(session, viewer, period=period)})


# ---------------------------------------------------------------- health and check-ins

def _partnership_page(request: Request, session: Session, viewer: Viewer, *, external_id: str, partner: str,
                      errors: dict | None = None, values: dict | None = None, status_code: int = 200) -> Response:
    found = health.partnership(session, viewer, external_id=external_id, partner=partner)
    return render(request, "partnership.html", {
        "found": found, "o": service.organisation_for(session, viewer, external_id=external_id),
        "title": found.partner_name,
        "post_to": f"/orgs/{external_id}/partnerships/{partner}/check-ins", "back": f"/orgs/{external_id}/kpis",
        "errors": errors or {}, "values": values or {}}, status_code=status_code)


@router.get("/orgs/{external_id}/partnerships/{partner}", response_class=HTMLResponse)
def partnership_page(request: Request, external_id: str, partner: str, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> Response:
    return _partnership_page(request, session, viewer, external_id=external_id, partner=partner)


@router.post("/orgs/{external_id}/partnerships/{partner}/check-ins", response_class=HTMLResponse)
def partnership_check_in(request: Request, external_id: str, partner: str, session: Session = DbSession,
                         viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    values = form_fields(form, CheckInIn.model_fields)
    try:
        health.answer_partnership(session, viewer, external_id=external_id, partner=partner,
                                  data=CheckInIn.model_validate(values))
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "value")
        return _partnership_page(request, session, viewer, external_id=external_id, partner=partner,
                                 errors=errors, values=values,
                                 status_code=status)
    return redirect_with_flash(request, f"/orgs/{external_id}/partnerships/{partner}#check-ins", SAVED_CHECK_IN)


def _project_page(request: Request, session: Session, viewer: Viewer, *, project_id: int,
                  errors: dict | None = None, values: dict | None = None, status_code: int = 200) -> Response:
    found = health.project_health(session, viewer, project_id=project_id)
    return render(request, "partnership.html", {
        "found": found, "title": found.project.title, "post_to": f"/joint-projects/{project_id}/check-ins",
        "back": f"/joint-projects/{project_id}", "errors": errors or {}, "values": values or {}},
        status_code=status_code)


@router.get("/joint-projects/{project_id}/health", response_class=HTMLResponse)
def project_health_page(request: Request, project_id: RecordId, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> Response:
    return _project_page(request, session, viewer, project_id=project_id)


@router.post("/joint-projects/{project_id}/check-ins", response_class=HTMLResponse)
def project_check_in(request: Request, project_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    values = form_fields(form, CheckInIn.model_fields)
    try:
        health.answer_project(session, viewer, project_id=project_id, data=CheckInIn.model_validate(values))
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "value")
        return _project_page(request, session, viewer, project_id=project_id, errors=errors,
                             values=values, status_code=status)
    return redirect_with_flash(request, f"/joint-projects/{project_id}/health#check-ins", SAVED_CHECK_IN)
