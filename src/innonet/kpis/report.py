"""The quarterly report of an organisation or of the cluster: one HTML document (the page,
and the PDF WeasyPrint renders from it) and a CSV with the same figures. The PDF is written
by a background job; the command line writes any of the three at once.
"""

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from innonet.db import transaction, utcnow
from innonet.errors import InvalidInput
from innonet.jobs.models import Job
from innonet.jobs.queue import web_queue
from innonet.jobs.service import JobContext, files_dir, job_kind
from innonet.kpis import alerts, cluster, health, service
from innonet.kpis.models import Alert
from innonet.kpis.schemas import ClusterKpisOut, KpisOut, PartnershipOut
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.web import csv_download, template_globals, templates

REPORT_JOB = "kpis.report_pdf"
FORMATS = ("pdf", "csv", "html")
CSV_COLUMNS = ("section", "kpi", "label", "period", "value", "unit", "target", "status", "contributors")


def shown(value: float | None, unit: str) -> str:
    """A KPI's value as the pages and reports write it ("no data" when there is none)."""
    if value is None:
        return "no data"
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit in ("ratio", "index"):
        return f"{value:.2f}"
    if unit == "days":
        return f"{value:.0f} days"
    if unit == "percentile":
        return f"{value:.0f}th"
    return f"{value:,.0f}"


template_globals(kpi_shown=shown)


def check_format(format: str) -> None:
    if format not in FORMATS:
        raise InvalidInput.for_field("format", f"{format[:10]!r} is not one of {', '.join(FORMATS)}")


@dataclass
class Report:
    """One quarterly report: an organisation's KPIs (with its alerts and partnerships) or the cluster's."""

    title: str
    figures: KpisOut | ClusterKpisOut
    made_on: date
    alerts: list[Alert] = field(default_factory=list)
    partnerships: list[PartnershipOut] = field(default_factory=list)

    @property
    def cluster(self) -> bool:
        return isinstance(self.figures, ClusterKpisOut)

    @property
    def period(self) -> str:
        return self.figures.period


def organisation_report(session: Session, viewer: Viewer, *, organisation: Organisation,
                        period: str | None) -> Report:
    """Everything the organisation's report holds, as ``viewer`` (one of its members) reads it."""
    found = service.kpis_of(session, viewer, organisation=organisation, period=period)
    return Report(title=f"{organisation.name}: quarterly report {found.period}", figures=found,
                  made_on=utcnow().date(), alerts=alerts.open_alerts(session, organisation_id=organisation.id),
                  partnerships=health.partnership_rows(session, viewer, organisation=organisation))


def cluster_report(session: Session, viewer: Viewer, *, period: str | None) -> Report:
    found = cluster.cluster_kpis(session, viewer, period=period)
    return Report(title=f"Cluster report {found.period}", figures=found, made_on=utcnow().date())


def as_html(report: Report) -> str:
    return templates.env.get_template("kpi_report.html").render(r=report)


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    figures = report.figures
    if isinstance(figures, KpisOut):
        for k in figures.kpis:
            writer.writerow([k.group, k.kpi, k.label, k.period, "" if k.value is None else round(k.value, 6),
                             k.unit, "" if k.target is None else k.target, k.status or "", ""])
        survey = figures.survey
        for t in survey.types:
            writer.writerow(["survey", t.type, t.label, survey.year, t.partners, "partners", t.eu_share, "", ""])
        for p in report.partnerships:
            writer.writerow(["health", p.partner, p.partner_name, report.period,
                             "" if p.score is None else p.score, "score", "", "", ""])
    else:
        for c in figures.kpis:
            writer.writerow([c.group, c.kpi, c.label, c.period, "" if c.value is None else round(c.value, 6),
                             c.unit, "", "", c.contributors])
        for n in figures.network:
            for name in ("members_with_partners", "partners", "links_among_members"):
                value = getattr(n, name)
                writer.writerow(["cluster_network", name, name.replace("_", " "), n.year,
                                 "" if value is None else value, "count", "", "", ""])
    return out.getvalue()


def as_pdf(report: Report) -> bytes:
    from weasyprint import HTML  # imported on use: it loads Pango, which a page never needs

    return HTML(string=as_html(report)).write_pdf()


def render(report: Report, format: str) -> bytes:
    check_format(format)
    if format == "pdf":
        return as_pdf(report)
    return (as_csv(report) if format == "csv" else as_html(report)).encode("utf-8")


def report_for(session: Session, viewer: Viewer, *, external_id: str | None, period: str | None) -> Report:
    """The report of the organisation (its members) or, without one, of the cluster."""
    organisation = check_report(session, viewer, external_id=external_id, period=period)
    if organisation is None:
        return cluster_report(session, viewer, period=period)
    return organisation_report(session, service.member_viewer(organisation.id, viewer.today),
                               organisation=organisation, period=period)


def check_report(session: Session, viewer: Viewer, *, external_id: str | None,
                 period: str | None) -> Organisation | None:
    """Refuse a report the viewer may not have or a period that is not one, without making
    the report; the organisation, or None for the cluster's."""
    service.parse_period(period, today=viewer.today)
    if external_id is None:
        cluster.ensure_cluster_manager(viewer)
        return None
    return service.organisation_for(session, viewer, external_id=external_id)


def answer(session: Session, viewer: Viewer, *, external_id: str | None, period: str | None, format: str,
           job_address: Callable[[Job], str]) -> Response:
    """The report as pages and API both answer it: HTML, a CSV file, or for PDF a redirect to
    ``job_address`` of the job that writes it (the job page, or its file in the API)."""
    check_format(format)
    if format == "pdf":
        job = start_pdf(session, viewer, external_id=external_id, period=period)
        return RedirectResponse(job_address(job), status_code=303)
    found = report_for(session, viewer, external_id=external_id, period=period)
    if format == "csv":
        return csv_download(as_csv(found), f"innonet-report-{external_id or 'cluster'}-{found.period}.csv")
    return HTMLResponse(as_html(found))


def start_pdf(session: Session, viewer: Viewer, *, external_id: str | None, period: str | None) -> Job:
    """A job that writes the report's PDF (checked first: a bad request fails now, not in the job)."""
    check_report(session, viewer, external_id=external_id, period=period)
    return web_queue(session).submit(REPORT_JOB, {"organisation": external_id, "period": period,
                                                  "today": viewer.today.isoformat()}, user_id=viewer.user_id)


def _read_report(session: Session, viewer: Viewer, job: Job) -> None:
    """An organisation's report is for its members, the cluster's for cluster managers: for
    whoever started it while they still are; an organisation's is audited."""
    external_id = json.loads(job.params).get("organisation")
    if external_id is None:
        cluster.ensure_cluster_manager(viewer)
        return
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    sharing.record_download(session, viewer, organisation_id=organisation.id,
                            detail=f"the quarterly report (PDF, job {job.id})")


@job_kind(REPORT_JOB, title="Write a quarterly report as PDF", file_reader=_read_report)
def _report_job(context: JobContext) -> dict:
    from innonet.accounts import service as accounts

    today = date.fromisoformat(context.params["today"])
    with transaction(context.sessions, writes=False) as session:
        viewer = accounts.viewer_of(session, user_id=context.user_id, today=today, channel="job")
        report = report_for(session, viewer, external_id=context.params["organisation"],
                            period=context.params["period"])
    name = f"innonet-report-{context.params['organisation'] or 'cluster'}-{report.period}-{context.job_id}.pdf"
    path = files_dir(context.settings) / name
    partial = path.with_suffix(".partial")
    partial.write_bytes(as_pdf(report))
    partial.replace(path)
    return {"link": f"/jobs/{context.job_id}/file", "link_text": "Download the PDF report",
            "file": path.name, "bytes": path.stat().st_size}
