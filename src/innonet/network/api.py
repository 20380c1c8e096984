"""JSON endpoints: one organisation's diagnosis, the network report, the graph to draw."""

from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from innonet.network import service
from innonet.network.schemas import Diagnosis, GraphView, NetworkReport
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, Year, api_router

router = api_router(tags=["network"])

@router.get("/orgs/{external_id}/diagnosis", response_model=Diagnosis)
def diagnosis(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer,
              since: Year = None, until: Year = None) -> Diagnosis:
    """One organisation's network diagnosis: partner portfolio, geography, network type,
    brokerage, dynamics and findings, over the relationships you may see."""
    return service.diagnosis(session, viewer, external_id=external_id, since=since, until=until)


@router.get("/network/report", response_model=NetworkReport)
def report(session: Session = DbSession, viewer: Viewer = CurrentViewer, since: Year = None,
           until: Year = None) -> NetworkReport:
    """The whole network: size, components, communities, hubs, brokers, core, matrices."""
    return service.network_report(session, viewer, since=since, until=until)


@router.get("/network/graph", response_model=GraphView)
def graph(
    session: Session = DbSession,
    viewer: Viewer = CurrentViewer,
    q: Annotated[str | None, Query(max_length=200, description="Text in name or id")] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    sme: bool | None = None,
    community: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 300,
    view: Literal["auto", "organisations", "communities"] = "auto",
) -> GraphView:
    """Nodes with positions and links for drawing, filtered; communities when too many."""
    return service.graph_view(session, viewer, q=q, kind=kind, country=country, sme=sme,
                              community=community, limit=limit, view=view)


@router.get("/network/export", status_code=303, response_class=RedirectResponse,
            responses={303: {"description": "Follow to /api/v1/jobs/{id}/file: 202 while the "
                                            "file is being written, then the file"}})
def export(format: Literal["gexf", "graphml"], session: Session = DbSession,
           viewer: Viewer = CurrentViewer, since: Year = None, until: Year = None) -> RedirectResponse:
    """The graph you may see, with every organisation's measures, as GEXF or GraphML: a
    job writes the file; this answer leads to it."""
    job = service.start_export(session, viewer, format=format, since=since, until=until)
    return RedirectResponse(f"/api/v1/jobs/{job.id}/file", status_code=303)
