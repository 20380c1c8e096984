"""The whole-network report a cluster manager reads: size, structure, groups, key players."""

from collections import Counter
from typing import Any

import igraph as ig
import numpy as np

from innonet.analytics.communities import community_links
from innonet.analytics.graph import edge_arrays

TOP = 10


def _vertex_summary(G: ig.Graph, v: int, metrics: dict[str, np.ndarray], *measures: str) -> dict:
    summary = {"vertex": int(v), **{a: G.vs[v][a] for a in ("external_id", "name", "kind",
                                                           "country") if a in G.vs.attributes()}}
    for name in measures:
        summary[name] = _number(metrics[name][v])
    return summary


def _number(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _top(values: np.ndarray, count: int = TOP, *, then: np.ndarray | None = None) -> list[int]:
    """The vertices of the ``count`` highest positive values (equal values: by ``then``,
    highest first, then by vertex)."""
    finite = np.where(np.isfinite(values), values, -np.inf)
    tie = np.zeros(values.size) if then is None else -np.nan_to_num(then, nan=0.0)
    order = np.lexsort((np.arange(values.size), tie, -finite))
    return [int(v) for v in order[:count] if np.isfinite(values[v]) and values[v] > 0]


def degree_distribution(degrees: np.ndarray) -> list[dict[str, int]]:
    """Organisations per band of partner counts: 0, 1, 2, 3–4, 5–8, … (powers of two).

    Examples
    --------
    >>> degree_distribution(np.array([0, 1, 1, 3, 9]))
    [{'from': 0, 'to': 0, 'organisations': 1}, {'from': 1, 'to': 1, 'organisations': 2}, {'from': 2, 'to': 2, 'organisations': 0}, {'from': 3, 'to': 4, 'organisations': 1}, {'from': 5, 'to': 8, 'organisations': 0}, {'from': 9, 'to': 16, 'organisations': 1}]
    """
    if degrees.size == 0:
        return []
    bands = [(0, 0), (1, 1)]
    while bands[-1][1] < degrees.max():
        low = bands[-1][1] + 1
        bands.append((low, 2 * low - 2 if low > 2 else low))
    return [{"from": a, "to": b,
             "organisations": int(np.count_nonzero((degrees >= a) & (degrees <= b)))}
            for a, b in bands]


def _pair_matrix(G: ig.Graph, sources: np.ndarray, targets: np.ndarray, attribute: str, limit: int = 15) -> dict:
    """Links between values of a vertex attribute (country, kind), the busiest first."""
    if attribute not in G.vs.attributes() or sources.size == 0:
        return {"labels": [], "links": []}
    labels, codes = np.unique([v or "unknown" for v in G.vs[attribute]], return_inverse=True)
    a, b = codes[sources], codes[targets]
    low, high = np.minimum(a, b), np.maximum(a, b)
    pair_links = np.bincount(low * labels.size + high, minlength=labels.size ** 2)
    volume = np.bincount(a, minlength=labels.size) + np.bincount(b, minlength=labels.size)
    kept = np.argsort(-volume, kind="stable")[:limit]
    kept_set = set(kept.tolist())
    links = [{"a": str(labels[code // labels.size]), "b": str(labels[code % labels.size]),
              "links": int(pair_links[code])}
             for code in np.argsort(-pair_links, kind="stable")
             if pair_links[code] and code // labels.size in kept_set
             and code % labels.size in kept_set]
    return {"labels": [str(labels[k]) for k in kept], "links": links}


def network_report(G: ig.Graph, metrics: dict[str, np.ndarray], *, modularity: float | None = None) -> dict:
    """Describe the whole network from its per-vertex ``metrics`` (see ``node_metrics``).

    Returns a dict of plain numbers, lists and dicts, ready for JSON. An empty graph gives
    a report of zeros and empty lists.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> from innonet.analytics.metrics import node_metrics
    >>> G = collaboration_graph(4, [0, 0, 0], [1, 2, 3])
    >>> report = network_report(G, node_metrics(G))
    >>> report["size"]["organisations"], report["size"]["density"], report["components"]["count"]
    (4, 0.5, 1)
    """
    n = G.vcount()
    sources, targets, weights = edge_arrays(G)
    degrees = metrics["degree"]
    component_sizes = sorted(G.connected_components().sizes(), reverse=True) if n else []
    membership = metrics["community"]
    report = {
        "size": _size(n, degrees, float(weights.sum()),
                      float(G.transitivity_undirected()) if G.ecount() else 0.0),
        "components": {
            "count": len(component_sizes),
            "largest": component_sizes[0] if component_sizes else 0,
            "largest_share": component_sizes[0] / n if n else 0.0,
            "sizes": component_sizes[:TOP],
        },
        "degree_distribution": degree_distribution(degrees),
        "communities": _communities(G, metrics, modularity),
        # Hubs: the most partners (what a reader counts); equal counts by PageRank.
        "hubs": [_vertex_summary(G, v, metrics, "degree", "pagerank")
                 for v in _top(degrees, then=metrics["pagerank"])],
        "brokers": [_vertex_summary(G, v, metrics, "betweenness", "effective_size",
                                    "constraint") for v in _top(metrics["betweenness"])],
        "bridges": _bridges(G, sources, targets, membership, metrics),
        "core_periphery": _core_periphery(G, sources, targets, metrics["core_number"]),
        "country_links": _pair_matrix(G, sources, targets, "country"),
        "kind_links": _pair_matrix(G, sources, targets, "kind"),
    }
    return report


def _size(n: int, degrees: np.ndarray, total_weight: float, clustering: float) -> dict:
    m = int(degrees.sum()) // 2
    return {
        "organisations": n,
        "links": m,
        "total_weight": total_weight,
        "density": 2 * m / (n * (n - 1)) if n > 1 else 0.0,
        "isolated": int(np.count_nonzero(degrees == 0)),
        "mean_partners": float(degrees.mean()) if n else 0.0,
        "median_partners": float(np.median(degrees)) if n else 0.0,
        "max_partners": int(degrees.max()) if n else 0,
        "clustering": clustering,
    }


def resized_report(report: dict, metrics: dict[str, np.ndarray]) -> dict:
    """``report`` of a graph to which ties were added since, with its size and degree
    distribution those of the graph with them, as ``metrics`` (degree and strength) give
    them; the rest, global clustering included, stays as it was.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> from innonet.analytics.metrics import node_metrics
    >>> G = collaboration_graph(4, [0, 0], [1, 2])
    >>> H = collaboration_graph(4, [0, 0, 2], [1, 2, 3])
    >>> resized = resized_report(network_report(G, node_metrics(G)), node_metrics(H))
    >>> resized["size"]["links"], resized["size"]["isolated"], resized["components"]["count"]
    (3, 0, 2)
    """
    degrees = metrics["degree"]
    return {**report, "size": _size(degrees.size, degrees, float(metrics["strength"].sum()) / 2,
                                    report["size"]["clustering"]),
            "degree_distribution": degree_distribution(degrees)}


def _communities(G: ig.Graph, metrics: dict[str, np.ndarray], modularity: float | None) -> dict:
    membership = metrics["community"]
    if membership.size == 0:
        return {"count": 0, "modularity": 0.0, "largest": []}
    sizes = np.bincount(membership)
    largest = []
    for community in range(min(TOP, sizes.size)):
        members = np.flatnonzero(membership == community)
        ranked = members[np.argsort(-metrics["pagerank"][members], kind="stable")]
        countries = Counter(G.vs[int(v)]["country"] for v in members
                            if "country" in G.vs.attributes())
        largest.append({
            "community": community,
            "organisations": int(sizes[community]),
            "leading_members": [_vertex_summary(G, v, metrics) for v in ranked[:5]],
            "countries": [{"country": c, "organisations": k}
                          for c, k in countries.most_common(3) if c],
        })
    # A community has two organisations or more; one alone (no partner in the window, or
    # none the method groups it with) is counted apart, as everywhere in innonet.
    return {"count": int(np.count_nonzero(sizes > 1)),
            "singletons": int(np.count_nonzero(sizes == 1)),
            "modularity": float(modularity if modularity is not None else
                                G.modularity(membership.tolist(), weights="weight")
                                if G.ecount() else 0.0),
            "largest": largest}


def _bridges(G: ig.Graph, sources: np.ndarray, targets: np.ndarray, membership: np.ndarray,
             metrics: dict[str, np.ndarray]) -> dict:
    """Links between communities, and the organisations that reach most other communities."""
    if sources.size == 0:
        return {"between_communities": [], "organisations": []}
    a, b, pair_weight = community_links(G, membership)
    busiest = np.argsort(-pair_weight, kind="stable")[:TOP]
    # Distinct (organisation, other community) pairs, counted per organisation.
    ends, other = membership[sources], membership[targets]
    across = ends != other
    groups = int(membership.max()) + 1
    reached = np.unique(np.concatenate([sources[across] * groups + other[across],
                                        targets[across] * groups + ends[across]])) // groups
    communities_reached = np.bincount(reached, minlength=G.vcount()).astype(float)
    return {
        "between_communities": [{"a": int(a[i]), "b": int(b[i]),
                                 "weight": float(pair_weight[i])} for i in busiest],
        "organisations": [
            {**_vertex_summary(G, v, metrics, "betweenness"),
             "other_communities": int(communities_reached[v])}
            for v in _top(communities_reached)],
    }


def _core_periphery(G: ig.Graph, sources: np.ndarray, targets: np.ndarray, cores: np.ndarray) -> dict:
    if cores.size == 0:
        return {"max_core": 0, "core_size": 0, "core_links_share": 0.0, "shells": []}
    top = int(cores.max())
    in_core = cores == top
    inside = in_core[sources] & in_core[targets]
    shells = np.bincount(cores)
    return {"max_core": top,
            "core_size": int(in_core.sum()),
            "core_links_share": float(inside.mean()) if inside.size else 0.0,
            "shells": [{"core": k, "organisations": int(c)}
                       for k, c in enumerate(shells) if c]}
