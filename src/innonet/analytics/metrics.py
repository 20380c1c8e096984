"""Every per-organisation measure at once, using both cores."""

import threading

import igraph as ig
import numpy as np

from innonet.analytics.centrality import (
    betweenness_from_sums,
    closeness_from_sums,
    clustering,
    core_number,
    degree,
    eigenvector_centrality,
    pagerank,
    sample_sources,
    strength,
)
from innonet.analytics.communities import communities
from innonet.analytics.graph import ranked_arcs
from innonet.analytics.structural_holes import measures_from_sums, tie_proportions

# Up to this many vertices, betweenness and closeness are exact; above, sampled.
EXACT_UP_TO = 2_500
SAMPLED_SOURCES = 256
METRICS = ("degree", "strength", "pagerank", "eigenvector", "betweenness", "closeness",
           "clustering", "constraint", "effective_size", "efficiency", "hierarchy",
           "core_number", "community")


def node_metrics(G: ig.Graph, weight: str | None = "weight", k: int = SAMPLED_SOURCES, seed: int | None = 0,
                 exact_up_to: int = EXACT_UP_TO) -> dict[str, np.ndarray]:
    """All measures of every vertex: a dict of arrays keyed by the names in ``METRICS``.

    Betweenness and closeness are exact up to ``exact_up_to`` vertices and estimated from
    ``k`` sources drawn with ``seed`` above. The compiled measures (structural holes,
    betweenness, closeness) run on a second thread while igraph computes the rest.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> m = node_metrics(collaboration_graph(4, [0, 0, 0], [1, 2, 3]))
    >>> m["degree"].tolist(), m["betweenness"].tolist(), m["constraint"].round(3).tolist()
    ([3, 1, 1, 1], [1.0, 0.0, 0.0, 0.0], [0.333, 1.0, 1.0, 1.0])
    """
    n = G.vcount()
    sources = sample_sources(n, None if n <= exact_up_to else k, seed)
    arcs = ranked_arcs(G, weight)
    p, m = tie_proportions(arcs, n)
    # numba loads on first use, not when innonet starts: a partner search never needs it.
    from innonet.analytics._kernels import triangle_and_path_sums, warm_up
    warm_up()
    sums: list[np.ndarray] = []
    started = threading.Event()

    def compiled_sums() -> None:
        started.set()
        sums.extend(triangle_and_path_sums(
            arcs.indptr, arcs.indices, arcs.out_start, arcs.reverse, p, m,
            arcs.rank[np.asarray(sources, dtype=np.int64)]))

    worker = threading.Thread(target=compiled_sums, name="innonet-metrics")
    worker.start()
    # igraph holds the GIL throughout its calls: let the worker get into its kernel first.
    started.wait()
    try:
        result = {
            "degree": degree(G),
            "strength": strength(G, weight),
            "pagerank": pagerank(G, weight=weight),
            "eigenvector": eigenvector_centrality(G, weight),
            "clustering": clustering(G),
            "core_number": core_number(G),
            "community": communities(G, weight, seed=seed),
        }
    finally:
        worker.join()
    indirect, redundancy, inverse_distances, dependencies = sums
    result.update(measures_from_sums(arcs, n, p, indirect, redundancy))
    result["closeness"] = closeness_from_sums(arcs.per_vertex(inverse_distances), n, sources)
    result["betweenness"] = betweenness_from_sums(arcs.per_vertex(dependencies), n, sources)
    return {name: result[name] for name in METRICS}
