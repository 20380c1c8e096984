"""The network for Gephi and other tools (GEXF, GraphML), written by a background job."""

import io
import json
from typing import IO, TYPE_CHECKING

import igraph as ig
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from innonet import analytics
from innonet.collaborations.models import (
    Relationship,
)
from innonet.db import transaction
from innonet.errors import Forbidden, InvalidInput, Problem
from innonet.jobs.models import Job
from innonet.jobs.queue import web_queue
from innonet.jobs.service import JobContext, files_dir, job_kind
from innonet.network.analyses import analysis
from innonet.network.building import (
    EXPORT_FORMATS,
    EXPORT_JOB,
    Analysis,
    AnalysisSpec,
    build_analysis,
    checked_window,
    visible_relationships,
)
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing
from innonet.text import strip_control_characters

if TYPE_CHECKING:
    import networkx as nx


def graph_with_measures(session: Session, viewer: Viewer, *, since: int | None = None,
                        until: int | None = None) -> ig.Graph:
    """A copy of the viewer's graph with every organisation's measures on its vertices."""
    return _with_measures(analysis(session, viewer, since=since, until=until))


def _with_measures(result: Analysis) -> ig.Graph:
    G = result.subgraph(list(range(result.graph.vcount())))
    for name in analytics.METRICS:
        G.vs[name] = [None if isinstance(x, float) and not np.isfinite(x) else x
                      for x in result.metrics[name].tolist()]
    return G


def networkx_graph(session: Session, viewer: Viewer) -> "nx.Graph":
    """The viewer's graph as a :class:`networkx.Graph` keyed by external id, with measures."""
    return analytics.to_networkx(graph_with_measures(session, viewer))


def export_graph(session: Session, viewer: Viewer, *, format: str, since: int | None = None,
                 until: int | None = None) -> bytes:
    """The viewer's graph as GEXF or GraphML, with every organisation's measures."""
    _check_format(format)
    buffer = io.BytesIO()
    _write(graph_with_measures(session, viewer, since=since, until=until), format, buffer)
    return buffer.getvalue()


def _check_format(format: str) -> None:
    if format not in EXPORT_FORMATS:
        message = f"must be one of {', '.join(EXPORT_FORMATS)}"
        raise InvalidInput(f"format: {message}.", [Problem(message, field="format")])


def _write(graph: ig.Graph, format: str, file: IO[bytes]) -> None:
    # XML cannot carry control characters; records from before they were refused may hold one.
    for name in graph.vs.attributes():
        graph.vs[name] = [strip_control_characters(x) if isinstance(x, str) else x for x in graph.vs[name]]
    (analytics.write_gexf if format == "gexf" else analytics.write_graphml)(graph, file)


def start_export(session: Session, viewer: Viewer, *, format: str, since: int | None = None,
                 until: int | None = None) -> Job:
    """In the web app: a job that writes the viewer's graph to a file to download when it
    is done (the full network's GEXF is about 160 MB: never built inside a request)."""
    _check_format(format)
    checked_window(since, until)
    # Built from every relationship the viewer may see, with every measure exact.
    public, others = visible_relationships(session, viewer, for_aggregates=False,
                                            since=since, until=until)
    spec = AnalysisSpec(since, until, viewer.today.year, (*public, *others))
    return web_queue(session).submit(EXPORT_JOB, {"format": format, **spec.params()},
                                    user_id=viewer.user_id)


def _read_export(session: Session, viewer: Viewer, job: Job) -> None:
    """The file holds the relationships its starter could read then: it is theirs while they
    still read every one of them (a share withdrawn or a membership ended takes it away).
    Each organisation whose non-public relationships it holds sees the download."""
    spec = AnalysisSpec.from_params(json.loads(job.params))
    ids = {r.id for r in spec.relationships}
    readable = {id: (owner, visibility) for id, owner, visibility in session.execute(select(
        Relationship.id, Relationship.organisation_id, Relationship.visibility).where(
        policy.visible_condition(viewer, Relationship)))}
    if not ids <= readable.keys():
        raise Forbidden("This file holds relationships you may no longer read: export the network again.")
    for owner in sorted({readable[i][0] for i in ids if readable[i][1] != "public"}):
        sharing.record_download(session, viewer, organisation_id=owner,
                                detail=f"its relationships in a network export (job {job.id})")


@job_kind(EXPORT_JOB, title="Export the network (GEXF or GraphML) for Gephi and other tools",
          file_reader=_read_export)
def _export_job(context: JobContext) -> dict:
    spec, format = AnalysisSpec.from_params(context.params), context.params["format"]
    context.progress(0, 2, "Building the graph and its measures.")
    with transaction(context.sessions, writes=False) as session:
        built = build_analysis(session, checked_window(spec.since, spec.until), spec.relationships,
                       this_year=spec.this_year)
    context.progress(1, 2, f"Writing the {format.upper()} file.")
    path = files_dir(context.settings) / f"innonet-network-{context.job_id}.{format}"
    partial = path.with_suffix(".partial")
    with partial.open("wb") as file:  # a download never sees half a file
        _write(_with_measures(built), format, file)
    partial.replace(path)
    return {"link": f"/jobs/{context.job_id}/file", "link_text": f"Download the {format.upper()} file",
            "file": path.name, "bytes": path.stat().st_size}
