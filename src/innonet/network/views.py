"""Pages: an organisation's diagnosis, the network explorer and the network report."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from innonet.network import service
from innonet.network.report import picture, standalone_report
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, Year, download, render

router = APIRouter(include_in_schema=False)


@router.get("/orgs/{external_id}/diagnosis", response_class=HTMLResponse)
def diagnosis_page(request: Request, external_id: str, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer, since: Year = None, until: Year = None) -> Response:
    found = service.diagnosis(session, viewer, external_id=external_id, since=since,
                              until=until)
    return render(request, "diagnosis.html", {"d": found, "since": since, "until": until})


@router.get("/network", response_class=HTMLResponse)
def explorer(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    # The filters live in the address (shared, bookmarked, Back): the form starts from it, and
    # the drawing asks the API with the same words, which checks them.
    shown = {name: request.query_params.get(name, "")[:200]
             for name in ("q", "kind", "country", "sme", "view", "community")}
    return render(request, "explorer.html",
                  {"countries": organisations.overview(session).countries_by_name, "shown": shown})


@router.get("/network/report", response_class=HTMLResponse)
def report_page(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer,
                since: Year = None, until: Year = None) -> Response:
    report = service.network_report(session, viewer, since=since, until=until)
    return render(request, "report.html", {
        "report": report, "picture": picture(service.graph_view(session, viewer,
                                                                 view="communities", limit=40))})


@router.get("/network/report.html")
def report_download(session: Session = DbSession, viewer: Viewer = CurrentViewer,
                    since: Year = None, until: Year = None) -> Response:
    """The report as one standalone HTML file (charts and network picture inside)."""
    return download(standalone_report(session, viewer, since=since, until=until),
                    "innonet-network-report.html", "text/html")


@router.get("/network/export")
def export_page(session: Session = DbSession, viewer: Viewer = CurrentViewer,
                format: Literal["gexf", "graphml"] = "gexf", since: Year = None,
                until: Year = None) -> Response:
    """Start writing the export; its job page offers the file when it is ready."""
    job = service.start_export(session, viewer, format=format, since=since, until=until)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
