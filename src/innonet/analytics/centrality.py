"""Centrality of every vertex: who is well connected, influential, in between or close.

Every function takes an igraph Graph and returns a numpy array indexed by vertex id, with
the same definition (and, where it says so, the same normalisation) as the networkx
function it names, so networkx serves as the reference in the tests.
"""

import random

import igraph as ig
import numpy as np

from innonet.analytics.graph import RankedArcs, Sources, ranked_arcs


def degree(G: ig.Graph) -> np.ndarray:
    """Number of partners of each vertex (``networkx.Graph.degree``).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> degree(collaboration_graph(3, [0, 0], [1, 2])).tolist()
    [2, 1, 1]
    """
    return np.asarray(G.degree(), dtype=np.int64)


def strength(G: ig.Graph, weight: str | None = "weight") -> np.ndarray:
    """Sum of the weights of each vertex's edges (``networkx.Graph.degree(weight=...)``).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> strength(collaboration_graph(3, [0, 0], [1, 2], weight=[2.0, 0.5])).tolist()
    [2.5, 2.0, 0.5]
    """
    return np.asarray(G.strength(weights=weight), dtype=float)


def pagerank(G: ig.Graph, alpha: float = 0.85, weight: str | None = "weight") -> np.ndarray:
    """Weighted PageRank with damping ``alpha`` (``networkx.pagerank``).

    Vertices without edges spread their rank evenly over all vertices, as in networkx.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> pagerank(collaboration_graph(3, [0, 0], [1, 2])).round(3).tolist()
    [0.486, 0.257, 0.257]
    """
    if G.vcount() == 0:
        return np.zeros(0)
    return np.asarray(G.pagerank(damping=alpha, weights=weight, implementation="prpack"))


def eigenvector_centrality(G: ig.Graph, weight: str | None = "weight") -> np.ndarray:
    """Weighted eigenvector centrality, unit Euclidean norm (``networkx.eigenvector_centrality``).

    On a disconnected graph only the component with the largest eigenvalue gets non-zero
    values, as with the networkx functions (several with the same eigenvalue share, as
    networkx's power iteration from equal values shares); see docs/methods.md. Each
    candidate component is computed alone, so igraph never meets a disconnected graph
    (whose warning it would print to the server's log from any thread).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> eigenvector_centrality(collaboration_graph(3, [0, 0], [1, 2])).round(4).tolist()
    [0.7071, 0.5, 0.5]
    >>> eigenvector_centrality(collaboration_graph(5, [0, 2, 3], [1, 3, 4])).round(4).tolist()
    [0.0, 0.0, 0.5, 0.7071, 0.5]
    """
    values = np.zeros(G.vcount())
    if G.ecount() == 0:
        return values
    membership = np.asarray(G.connected_components().membership)
    strength = np.asarray(G.strength(weights=weight), dtype=float)
    largest_strength = np.zeros(membership.max() + 1)
    np.maximum.at(largest_strength, membership, strength)
    # A component's largest eigenvalue is at most its largest strength (a row sum of its
    # adjacency matrix): components that cannot beat the best found so far are skipped.
    found: list[tuple[float, np.ndarray, np.ndarray]] = []
    best = 0.0
    for component in np.argsort(-largest_strength, kind="stable"):
        if largest_strength[component] == 0 or largest_strength[component] < best * (1 - 1e-9):
            break
        nodes = np.flatnonzero(membership == component)
        vector, eigenvalue = G.subgraph(nodes).eigenvector_centrality(
            weights=weight, scale=False, return_eigenvalue=True, arpack_options=_exact_arpack())
        found.append((eigenvalue, nodes, np.abs(np.asarray(vector))))
        best = max(best, eigenvalue)
    for eigenvalue, nodes, vector in found:
        if eigenvalue >= best * (1 - 1e-9):
            unit = vector / np.linalg.norm(vector)
            values[nodes] = unit * unit.sum()  # its share of the equal start
    return values / np.linalg.norm(values)


def _exact_arpack() -> ig.ARPACKOptions:
    options = ig.ARPACKOptions()
    options.tol = 0  # machine precision
    options.mxiter = 10_000
    return options


def sample_sources(n: int, k: int | None, seed: int | None = None) -> list[int]:
    """The ``k`` source vertices networkx would draw with the same seed (all when k is None).

    Examples
    --------
    >>> sample_sources(10, 3, seed=1)
    [2, 1, 4]
    """
    if k is None or k >= n:
        return list(range(n))
    return random.Random(seed).sample(list(range(n)), k)


def _rescale_sampled(totals: np.ndarray, n: int, sources: Sources, per_source_pairs: float) -> np.ndarray:
    """Mean over the sources other than the vertex itself, divided by ``per_source_pairs``."""
    counts = np.full(n, float(len(sources)))
    counts[sources] -= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        values = totals / (counts * per_source_pairs)
    return np.where(counts > 0, values, 0.0)


def betweenness(G: ig.Graph, k: int | None = None, seed: int | None = None) -> np.ndarray:
    """Normalised shortest-path betweenness (``networkx.betweenness_centrality``).

    Exact when ``k`` is None; otherwise estimated from ``k`` source vertices drawn with
    ``seed`` exactly as networkx draws them, with networkx's estimator, so both give the
    same numbers. Hops count as distance; weights are ignored. The estimate is a mean of
    k values in [0, 1]: it is within ±sqrt(ln(2/δ) / 2k) of the exact value with
    probability 1-δ (±0.085 for k = 256, δ = 0.05), Hoeffding's bound.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> betweenness(collaboration_graph(3, [0, 0], [1, 2])).tolist()
    [1.0, 0.0, 0.0]
    """
    n = G.vcount()
    if n <= 2:
        return np.zeros(n)
    sources = sample_sources(n, k, seed)
    if len(sources) == n:
        totals = np.asarray(G.betweenness(directed=False))
        return totals * 2 / ((n - 1) * (n - 2))
    # igraph counts each undirected path once; Brandes' sums from each source count it twice.
    totals = np.asarray(G.betweenness(directed=False, sources=sources)) * 2
    return _rescale_sampled(totals, n, sources, n - 2)


def harmonic_closeness(G: ig.Graph, k: int | None = None, seed: int | None = None) -> np.ndarray:
    """Harmonic closeness: the mean of 1/distance to every other vertex, in [0, 1].

    ``networkx.harmonic_centrality`` divided by n-1. With ``k`` the mean is taken over
    ``k`` sampled sources (drawn as in :func:`betweenness`), with the same error bound.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> harmonic_closeness(collaboration_graph(3, [0, 0], [1, 2])).tolist()
    [1.0, 0.75, 0.75]
    """
    return harmonic_closeness_from_arcs(ranked_arcs(G, weight=None), G.vcount(), k, seed)


def harmonic_closeness_from_arcs(arcs: RankedArcs, n: int, k: int | None = None,
                                 seed: int | None = None) -> np.ndarray:
    """:func:`harmonic_closeness` on a graph already indexed by :func:`ranked_arcs`."""
    sources = sample_sources(n, k, seed)
    # numba loads on first use, not when innonet starts: a partner search never needs it.
    from innonet.analytics._kernels import path_sums
    totals, _ = path_sums(arcs.indptr, arcs.indices, arcs.rank[np.asarray(sources, dtype=np.int64)])
    return closeness_from_sums(arcs.per_vertex(totals), n, sources)


def betweenness_from_sums(totals: np.ndarray, n: int, sources: Sources) -> np.ndarray:
    """:func:`betweenness` from each vertex's sum of Brandes' dependencies of the ``sources``
    on it (each undirected path counted from both ends, as networkx sums them)."""
    if n <= 2:
        return np.zeros(n)
    return _rescale_sampled(totals, n, sources, n - 2)


def closeness_from_sums(totals: np.ndarray, n: int, sources: Sources) -> np.ndarray:
    """Harmonic closeness from each vertex's sum of 1/distance to the ``sources``."""
    if n <= 1:
        return np.zeros(n)
    if len(sources) == n:
        return totals / (n - 1)
    return _rescale_sampled(totals, n, sources, 1.0)


def clustering(G: ig.Graph) -> np.ndarray:
    """Local clustering coefficient, 0 for vertices with fewer than two partners.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> clustering(collaboration_graph(4, [0, 0, 1, 0], [1, 2, 2, 3])).round(4).tolist()
    [0.3333, 1.0, 1.0, 0.0]
    """
    return np.asarray(G.transitivity_local_undirected(mode="zero"), dtype=float)


def core_number(G: ig.Graph) -> np.ndarray:
    """The k-core each vertex belongs to (``networkx.core_number``).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> core_number(collaboration_graph(4, [0, 0, 1, 0], [1, 2, 2, 3])).tolist()
    [2, 2, 2, 1]
    """
    return np.asarray(G.coreness(), dtype=np.int64)
