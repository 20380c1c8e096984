"""The collaboration graph: an undirected, weighted igraph Graph, and its conversions.

Vertices carry ``external_id``, ``name``, ``kind``, ``country`` and ``is_sme``; edges carry
``weight`` (shared projects plus relationship strength, see docs/methods.md), ``projects``
(number of shared projects), ``kinds`` (relationship kinds, as the first vertex of the edge
records them) and ``first_year`` / ``last_year`` (when the tie was active).
"""

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any

import igraph as ig
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

# igraph draws its random numbers from one process-wide generator.
_generator_lock = threading.Lock()


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Make igraph's randomised algorithms repeatable inside this block."""
    with _generator_lock:
        ig.set_random_number_generator(random.Random(seed))
        try:
            yield
        finally:
            ig.set_random_number_generator(random)


def layout(G: ig.Graph, weight: str | None = "weight", seed: int | None = 0) -> np.ndarray:
    """Positions for drawing, in [0, 1000]², from a seeded force-directed layout.

    Each connected component is laid out on its own, in a square whose side grows with the
    square root of its size, and the squares are packed in rows, largest first, so small
    islands do not push the main network into a corner.

    Examples
    --------
    >>> positions = layout(collaboration_graph(5, [0, 1, 3], [1, 2, 4]))
    >>> positions.shape, bool((positions >= 0).all() and (positions <= 1000).all())
    ((5, 2), True)
    """
    n = G.vcount()
    positions = np.zeros((n, 2))
    if n == 0:
        return positions
    components = sorted(G.connected_components(), key=len, reverse=True)
    sides = [np.sqrt(len(c)) for c in components]
    row_width = max(sides[0], np.sqrt(sum(s * s for s in sides)))
    x = y = row_height = 0.0
    with seeded(seed):
        for members, side in zip(components, sides):
            if x > 0 and x + side > row_width:
                x, y, row_height = 0.0, y + row_height * 1.15, 0.0
            if len(members) == 1:
                box = np.array([[0.5, 0.5]])
            else:
                part = G.induced_subgraph(members)
                coords = np.asarray(part.layout_fruchterman_reingold(
                    weights=weight if part.ecount() else None, niter=300, grid=False).coords)
                span = np.ptp(coords, axis=0)
                span[span == 0] = 1.0
                box = (coords - coords.min(axis=0)) / span
            positions[members] = box * side * 0.9 + [x, y]
            x += side * 1.15
            row_height = max(row_height, side)
    span = max(np.ptp(positions, axis=0).max(), 1e-9)
    return (positions - positions.min(axis=0)) / span * 1000


VERTEX_ATTRIBUTES = ("external_id", "name", "kind", "country", "is_sme")
EDGE_ATTRIBUTES = ("weight", "projects", "kinds", "first_year", "last_year")


def collaboration_graph(n: int, sources: ArrayLike, targets: ArrayLike, *, weight: ArrayLike | None = None,
                        vertices: dict[str, list] | None = None, edges: dict[str, list] | None = None) -> ig.Graph:
    """Build an undirected graph of ``n`` vertices from parallel arrays of edge ends.

    Parameters
    ----------
    n : int
        Number of vertices, numbered 0 … n-1.
    sources, targets : array_like of int
        The two ends of each edge; each pair appears once.
    weight : array_like of float, optional
        Edge weights (1 when omitted).
    vertices, edges : dict of str to list, optional
        Further attributes, one value per vertex or edge.

    Returns
    -------
    igraph.Graph

    Examples
    --------
    >>> G = collaboration_graph(3, [0, 1], [1, 2], weight=[2.0, 1.0])
    >>> G.vcount(), G.ecount(), G.es["weight"]
    (3, 2, [2.0, 1.0])
    """
    # igraph reads a list of int pairs about twice as fast as a numpy array.
    pairs = list(zip(np.asarray(sources, dtype=np.int64).tolist(), np.asarray(targets, dtype=np.int64).tolist()))
    G = ig.Graph(n=int(n), edges=pairs, directed=False)
    G.es["weight"] = np.ones(len(pairs)).tolist() if weight is None else \
        np.asarray(weight, dtype=float).tolist()
    for name, values in (vertices or {}).items():
        G.vs[name] = list(values)
    for name, values in (edges or {}).items():
        G.es[name] = list(values)
    return G


def co_participation_edges(projects: np.ndarray, organisations: np.ndarray,
                           n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Link organisations that share projects; weight = number of shared projects.

    Parameters
    ----------
    projects, organisations : array_like of int
        One entry per participation: the project's and the organisation's index.
    n : int
        Number of organisations.

    Returns
    -------
    sources, targets, weights : numpy.ndarray
        Each linked pair once, ``sources < targets``.

    Examples
    --------
    >>> s, t, w = co_participation_edges([0, 0, 0, 1, 1], [0, 1, 2, 0, 1], 3)
    >>> s.tolist(), t.tolist(), w.tolist()
    ([0, 0, 1], [1, 2, 2], [2.0, 1.0, 1.0])
    """
    projects = np.asarray(projects, dtype=np.int64)
    organisations = np.asarray(organisations, dtype=np.int64)
    if projects.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    incidence = sp.csr_matrix((np.ones(projects.size), (projects, organisations)),
                              shape=(int(projects.max()) + 1, n))
    incidence.data[:] = 1.0  # an organisation listed twice in a project counts once
    shared = sp.triu(incidence.T @ incidence, k=1).tocoo()
    order = np.lexsort((shared.col, shared.row))
    return (shared.row[order].astype(np.int64), shared.col[order].astype(np.int64),
            shared.data[order].astype(float))


def edge_arrays(G: ig.Graph, weight: str | None = "weight") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The graph's edges as numpy arrays ``(sources, targets, weights)``.

    Examples
    --------
    >>> G = collaboration_graph(3, [0, 1], [1, 2], weight=[2.0, 1.0])
    >>> [a.tolist() for a in edge_arrays(G)]
    [[0, 1], [1, 2], [2.0, 1.0]]
    """
    # Flattened first: numpy reads a flat iterator several times faster than a list of pairs.
    ends = G.get_edgelist()
    pairs = np.fromiter(chain.from_iterable(ends), dtype=np.int64, count=2 * len(ends)).reshape(-1, 2)
    weights = np.ones(len(pairs)) if weight is None else np.asarray(G.es[weight], dtype=float)
    return pairs[:, 0], pairs[:, 1], weights


# The sources of a sampled shortest-path measure: vertex ids.
Sources = list[int] | np.ndarray


@dataclass(frozen=True)
class RankedArcs:
    """Both directions of every edge in CSR form, vertices renumbered by degree rank.

    ``rank[v]`` is vertex v's new number; ``source``/``indices`` are the arcs' ends,
    ``weight`` their weights, ``reverse[e]`` the position of the opposite arc and
    ``out_start[r]`` where the neighbours ranked above r begin in r's sorted list.
    """

    rank: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    source: np.ndarray
    weight: np.ndarray
    reverse: np.ndarray
    out_start: np.ndarray

    def per_vertex(self, values_by_rank: np.ndarray) -> np.ndarray:
        """Values computed per rank, put back in vertex order."""
        return values_by_rank[self.rank]


def ranked_arcs(G: ig.Graph, weight: str | None = "weight") -> RankedArcs:
    """Index the graph for the compiled kernels (see :class:`RankedArcs`).

    Examples
    --------
    A path 0–1–2: vertex 1 has the highest degree, so the highest rank.

    >>> arcs = ranked_arcs(collaboration_graph(3, [0, 1], [1, 2]))
    >>> arcs.rank.tolist(), arcs.indptr.tolist(), arcs.indices.tolist()
    ([0, 2, 1], [0, 1, 2, 4], [2, 2, 0, 1])
    """
    return ranked_arcs_of_edges(G.vcount(), *edge_arrays(G, weight))


def ranked_arcs_of_edges(n: int, sources: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> RankedArcs:
    """:func:`ranked_arcs` of a graph given as its edge arrays (no ``igraph.Graph`` built).

    Examples
    --------
    >>> ranked_arcs_of_edges(3, [0, 1], [1, 2], [1.0, 1.0]).indices.tolist()
    [2, 2, 0, 1]
    """
    sources, targets = np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    loops = sources == targets
    sources, targets, weights = sources[~loops], targets[~loops], weights[~loops]
    degree = np.bincount(sources, minlength=n) + np.bincount(targets, minlength=n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(degree, kind="stable")] = np.arange(n)
    a, b = rank[sources], rank[targets]
    matrix = sp.csr_matrix((np.concatenate([weights, weights]),
                            (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    indptr = matrix.indptr.astype(np.int64)
    indices = matrix.indices.astype(np.int64)
    source = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    positions = sp.csr_matrix((np.arange(indices.size, dtype=np.float64), indices, indptr),
                              shape=(n, n)).T.tocsr()
    positions.sort_indices()
    reverse = positions.data.astype(np.int64)
    below = np.bincount(source[indices < source], minlength=n)
    out_start = indptr[:-1] + below
    return RankedArcs(rank, indptr, indices, source, matrix.data.astype(float), reverse, out_start)


def to_networkx(G: ig.Graph) -> Any:
    """The graph as a :class:`networkx.Graph` with the same attributes, keyed by external id.

    Examples
    --------
    >>> G = collaboration_graph(2, [0], [1], weight=[3.0], vertices={"external_id": ["a", "b"]})
    >>> H = to_networkx(G)
    >>> sorted(H.nodes), H["a"]["b"]["weight"]
    (['a', 'b'], 3.0)
    """
    import networkx as nx

    H = nx.Graph()
    keys = G.vs["external_id"] if "external_id" in G.vs.attributes() else range(G.vcount())
    names = [a for a in G.vs.attributes() if a != "external_id"]
    for key, vertex in zip(keys, G.vs):
        H.add_node(key, **{a: vertex[a] for a in names if vertex[a] is not None})
    edge_names = G.es.attributes()
    keys = list(keys)
    for edge in G.es:
        attrs = {a: edge[a] for a in edge_names if edge[a] is not None}
        if isinstance(attrs.get("kinds"), (list, tuple)):
            attrs["kinds"] = ",".join(attrs["kinds"])
        H.add_edge(keys[edge.source], keys[edge.target], **attrs)
    return H


def write_gexf(G: ig.Graph, path: str | Path | IO[bytes]) -> None:
    """Write the graph as GEXF 1.2 (opens in Gephi) to a path or a binary file.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> write_gexf(collaboration_graph(2, [0], [1], vertices={"external_id": ["a", "b"]}), buffer)
    >>> b'<node id="a"' in buffer.getvalue()
    True
    """
    import networkx as nx

    nx.write_gexf(to_networkx(G), path)


def write_graphml(G: ig.Graph, path: str | Path | IO[bytes]) -> None:
    """Write the graph as GraphML (opens in Gephi, yEd, igraph and networkx).

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> write_graphml(collaboration_graph(2, [0], [1], vertices={"external_id": ["a", "b"]}), buffer)
    >>> b'<edge source="a" target="b"' in buffer.getvalue()
    True
    """
    import networkx as nx

    nx.write_graphml(to_networkx(G), path)
