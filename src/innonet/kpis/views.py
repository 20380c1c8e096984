"""Pages: an organisation's KPIs with their trends, partnerships with their health, and
the alerts of the daily check with their suggested actions."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from innonet.kpis import alerts, health, service
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, render, template_globals

router = APIRouter(include_in_schema=False)
template_globals(KPI_GROUPS=service.GROUPS)


def shown(value: float | None, unit: str) -> str:
    """A KPI's value in words a reader takes in at once ("no data" when there is none)."""
    if value is None:
        return "no data"
    if unit == "share":
        return f"{100 * value:.0f} %"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit == "index":
        return f"{value:.2f}"
    if unit == "days":
        return f"{value:.0f} days"
    if unit == "percentile":
        return f"{value:.0f}th"
    return f"{value:,.0f}"


template_globals(kpi_shown=shown)


@router.get("/orgs/{external_id}/kpis", response_class=HTMLResponse)
def kpis_page(request: Request, external_id: str,
              period: str | None = Query(None, max_length=10), session: Session = DbSession,
              viewer: Viewer = CurrentViewer):
    found = service.organisation_kpis(session, viewer, external_id=external_id, period=period)
    organisation = found["organisation"]
    return render(request, "kpis.html", {
        "o": organisation, "found": found,
        "alerts": alerts.alerts_of(session, viewer, external_id=external_id),
        "partnerships": health.partnership_rows(session, viewer, organisation=organisation)[:10]})
