"""The collaboration graph as the viewer may see it, analysed once and cached.

Organisations are linked by the projects they share (public data) and by the relationships
the viewer may see (:func:`innonet.sharing.policy.visible_condition`; for a cluster
manager's whole-network report, :func:`~innonet.sharing.policy.analytics_condition`). An
analysis is cached under the network's data version, the time window and the exact set of
relationships it used, so a change to the data or to what the viewer may see gives a fresh
one, and viewers who see the same relationships share it.
"""

import math

import numpy as np
from sqlalchemy.orm import Session

from innonet import analytics
from innonet.network.analyses import (
    FIRST_ANALYSIS_WAIT,
    STORED_PER_WINDOW,
    analysis,
    prefetch,
    prepare_public_analysis,
    store_public_analysis,
)
from innonet.network.building import (
    ANALYSIS_JOB,
    CACHE_SIZE,
    EXPORT_FORMATS,
    EXPORT_JOB,
    MAX_LINKS_PER_NODE,
    OWN_CACHE_SIZE,
    RELATIONSHIP_WEIGHT_PER_STRENGTH,
    Analysis,
    AnalysisSpec,
    RelationshipRow,
)
from innonet.network.exports import export_graph, graph_with_measures, networkx_graph, start_export
from innonet.network.schemas import (
    Diagnosis,
    Freshness,
    GraphLink,
    GraphNode,
    GraphView,
    NetworkReport,
    OrganisationMetrics,
)
from innonet.organisations import service as organisations
from innonet.roles import Viewer

__all__ = [
    "ANALYSIS_JOB",
    "Analysis",
    "AnalysisSpec",
    "CACHE_SIZE",
    "EXPORT_FORMATS",
    "EXPORT_JOB",
    "MAX_LINKS_PER_NODE",
    "OWN_CACHE_SIZE",
    "RELATIONSHIP_WEIGHT_PER_STRENGTH",
    "RelationshipRow",
    "FIRST_ANALYSIS_WAIT",
    "STORED_PER_WINDOW",
    "analysis",
    "prefetch",
    "prepare_public_analysis",
    "store_public_analysis",
    "export_graph",
    "graph_with_measures",
    "networkx_graph",
    "start_export",
]



def freshness(result: Analysis) -> Freshness:
    """When the analysis was computed, whether a newer one is on its way, and how many
    relationships that are not public it includes."""
    return Freshness(as_of=result.computed_at, up_to_date=result.up_to_date,
                     private_relationships=result.private_relationships)


def organisation_metrics(result: Analysis, vertex: int,
                         metrics: dict[str, np.ndarray] | None = None) -> OrganisationMetrics:
    """Every measure of one organisation (NaN becomes None)."""
    metrics = result.metrics if metrics is None else metrics
    row = {"external_id": result.graph.vs[vertex]["external_id"],
           "name": result.graph.vs[vertex]["name"]}
    for name in analytics.METRICS:
        value = metrics[name][vertex].item()
        row[name] = None if isinstance(value, float) and not np.isfinite(value) else value
    return OrganisationMetrics.model_validate(row)


def all_organisation_metrics(result: Analysis) -> list[dict]:
    """The measures of every organisation as JSON rows, read column by column (28,000
    organisations one at a time take most of a second)."""
    columns = {"external_id": result.vertex_values("external_id"), "name": result.vertex_values("name")}
    for name in analytics.METRICS:
        columns[name] = [None if isinstance(value, float) and not math.isfinite(value) else value
                         for value in result.metrics[name].tolist()]
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


def diagnosis(session: Session, viewer: Viewer, *, external_id: str, since: int | None = None,
              until: int | None = None) -> Diagnosis:
    """One organisation's diagnosis as this viewer may see it (NotFound for unknown ids)."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    result = analysis(session, viewer, since=since, until=until, organisation_id=organisation.id)
    vertex = result.vertex_of[organisation.id]
    metrics = result.metrics_of(vertex)
    # Its partners and the links among them: all the diagnosis reads of the graph.
    weights = result.weights()
    ego = sorted({vertex, *weights.indices[weights.indptr[vertex]:weights.indptr[vertex + 1]].tolist()})
    found = analytics.diagnose(result.subgraph(ego), ego.index(vertex), metrics,
                               this_year=result.this_year, vertices=ego,
                               data_until=result.data_until())
    leaders = result.community_leaders()
    for group in found["brokerage"]["communities_bridged"]:
        group["leading_member"] = leaders.get(group["community"])
    return Diagnosis(organisation={"external_id": organisation.external_id, "name": organisation.name,
                                   "kind": organisation.kind, "country": organisation.country,
                                   "is_sme": organisation.is_sme},
                     metrics=organisation_metrics(result, vertex, metrics), **found, **dict(freshness(result)))


def network_report(session: Session, viewer: Viewer, *, since: int | None = None,
                   until: int | None = None) -> NetworkReport:
    """The whole-network report; a cluster manager's counts include consenting members'
    relationships."""
    result = analysis(session, viewer, since=since, until=until,
                      for_aggregates=viewer.is_cluster_manager)
    return NetworkReport(since=since, until=until, **result.report, **dict(freshness(result)))


def graph_view(session: Session, viewer: Viewer, *, q: str | None = None,
               kind: str | None = None, country: str | None = None, sme: bool | None = None,
               community: int | None = None, limit: int = 300, view: str = "auto") -> GraphView:
    """Nodes (with positions) and links for drawing, filtered; communities when too many.

    ``view`` is ``organisations``, ``communities`` or ``auto`` (communities when more
    organisations match than ``limit`` and no text search narrows them).
    """
    result = analysis(session, viewer)
    G, metrics = result.graph, result.metrics
    n = G.vcount()
    keep = np.ones(n, dtype=bool)
    if kind:
        keep &= np.array([k == kind for k in G.vs["kind"]], dtype=bool)
    if country:
        keep &= np.array([c == country.upper() for c in G.vs["country"]], dtype=bool)
    if sme is not None:
        keep &= np.array([s is sme for s in G.vs["is_sme"]], dtype=bool)
    if community is not None:
        keep &= metrics["community"] == community
    if q:
        needle = q.casefold()
        keep &= np.array([needle in (name or "").casefold() or needle in eid.casefold()
                          for name, eid in zip(G.vs["name"], G.vs["external_id"])], dtype=bool)
    matched = np.flatnonzero(keep)
    if view == "communities" or (view == "auto" and matched.size > limit and not q):
        return _community_view(result, matched, limit)
    # The most central first; sorted again because the subgraph keeps vertex order.
    chosen = np.sort(matched[np.argsort(-metrics["pagerank"][matched], kind="stable")][:limit])
    sub = result.subgraph(chosen.tolist())
    positions = analytics.layout(sub)
    nodes = [GraphNode(id=G.vs[int(v)]["external_id"], label=G.vs[int(v)]["name"],
                       kind=G.vs[int(v)]["kind"], country=G.vs[int(v)]["country"],
                       is_sme=G.vs[int(v)]["is_sme"], community=int(metrics["community"][v]),
                       degree=int(metrics["degree"][v]), pagerank=float(metrics["pagerank"][v]),
                       x=float(x), y=float(y)) for v, (x, y) in zip(chosen, positions)]
    ids = [node.id for node in nodes]
    sources, targets, weights = analytics.graph.edge_arrays(sub)
    # The strongest links only, so a dense core stays drawable.
    strongest = np.argsort(-weights, kind="stable")[:MAX_LINKS_PER_NODE * max(len(ids), 1)]
    links = [GraphLink(source=ids[sources[e]], target=ids[targets[e]], weight=float(weights[e]))
             for e in np.sort(strongest)]
    return GraphView(view="organisations", matched=int(matched.size), total=n, nodes=nodes, links=links,
                     **dict(freshness(result)))


def _community_view(result: Analysis, matched: np.ndarray, limit: int) -> GraphView:
    G, membership = result.graph, result.metrics["community"]
    sizes = np.bincount(membership[matched], minlength=int(membership.max(initial=-1)) + 1)
    # A community has two organisations or more (as in the report): one alone is in none.
    shown = [int(c) for c in np.argsort(-sizes, kind="stable")[:min(limit, 100)] if sizes[c] > 1]
    index = {c: i for i, c in enumerate(shown)}
    in_view = np.zeros(G.vcount(), dtype=bool)
    in_view[matched] = True
    a, b, weights = analytics.community_links(G, membership, keep=in_view)
    drawn = np.isin(a, shown) & np.isin(b, shown)
    pairs = {(int(x), int(y)): float(w) for x, y, w in zip(a[drawn], b[drawn], weights[drawn])}
    summary = analytics.collaboration_graph(
        len(shown), [index[x] for x, _ in pairs], [index[y] for _, y in pairs],
        weight=list(pairs.values()))
    positions = analytics.layout(summary)
    leaders = result.community_leaders()
    nodes = [GraphNode(id=f"community-{c}", community=c, organisations=int(sizes[c]),
                       label=f"{leaders.get(c) or 'Community ' + str(c)} and {int(sizes[c]) - 1} more",
                       x=float(x), y=float(y)) for c, (x, y) in zip(shown, positions)]
    links = [GraphLink(source=f"community-{x}", target=f"community-{y}", weight=w) for (x, y), w in pairs.items()]
    return GraphView(view="communities", matched=int(matched.size), total=G.vcount(),
                     communities=int(np.count_nonzero(sizes > 1)), nodes=nodes, links=links,
                     **dict(freshness(result)))
