"""Compiled loops for the measures igraph lacks or computes slowly.

They work on a symmetric adjacency in CSR form whose nodes are numbered by rank (degree
order) and whose neighbour lists are sorted, so that each node's higher-ranked neighbours
are a suffix of its list (``out_start``). They release the GIL, so they run on the second
core while igraph works on the first.
"""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def triangle_sums(indptr: np.ndarray, indices: np.ndarray, out_start: np.ndarray, reverse: np.ndarray, p: np.ndarray,
                  m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For every arc v→u, sum over common neighbours w of p[v→w]·p[w→u] and p[v→w]·m[u→w].

    Each triangle is found once (from its lowest-ranked corner) and credits its six arcs,
    which keeps the work near the number of triangles instead of the sum of squared
    degrees.
    """
    n = indptr.size - 1
    pp = np.zeros(indices.size)
    pm = np.zeros(indices.size)
    arc_to = np.full(n, -1, np.int64)
    for v in range(n):
        for e in range(out_start[v], indptr[v + 1]):
            arc_to[indices[e]] = e
        for vu in range(out_start[v], indptr[v + 1]):
            u = indices[vu]
            for uw in range(out_start[u], indptr[u + 1]):
                vw = arc_to[indices[uw]]
                if vw >= 0:
                    uv = reverse[vu]
                    wv = reverse[vw]
                    wu = reverse[uw]
                    # arc a→b gains p[a→c]·p[c→b] and p[a→c]·m[b→c] from the third corner c
                    pp[vu] += p[vw] * p[wu]
                    pm[vu] += p[vw] * m[uw]
                    pp[uv] += p[uw] * p[wv]
                    pm[uv] += p[uw] * m[vw]
                    pp[vw] += p[vu] * p[uw]
                    pm[vw] += p[vu] * m[wu]
                    pp[wv] += p[wu] * p[uv]
                    pm[wv] += p[wu] * m[vu]
                    pp[uw] += p[uv] * p[vw]
                    pm[uw] += p[uv] * m[wv]
                    pp[wu] += p[wv] * p[vu]
                    pm[wu] += p[wv] * m[uv]
        for e in range(out_start[v], indptr[v + 1]):
            arc_to[indices[e]] = -1
    return pp, pm


@njit(nogil=True, cache=True)
def path_sums(indptr: np.ndarray, indices: np.ndarray,
              sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """For every node, two sums over the given sources s: 1/d(s, node) in hops (harmonic
    closeness), and Brandes' dependency of s on the node, the share of the shortest paths
    from s that pass through it (betweenness). One breadth-first search per source serves both."""
    n = indptr.size - 1
    inverse = np.zeros(n)
    through = np.zeros(n)
    dist = np.full(n, -1, np.int64)
    paths = np.zeros(n)       # shortest paths from s (a float: their count can pass 2**63)
    dependency = np.zeros(n)
    queue = np.empty(n, np.int64)
    for s in sources:
        dist[:] = -1
        dist[s] = 0
        paths[s] = 1.0
        dependency[s] = 0.0
        queue[0] = s
        head = 0
        tail = 1
        while head < tail:
            v = queue[head]
            head += 1
            dv = dist[v] + 1
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                if dist[u] < 0:
                    dist[u] = dv
                    paths[u] = 0.0
                    dependency[u] = 0.0
                    queue[tail] = u
                    tail += 1
                    inverse[u] += 1.0 / dv
                if dist[u] == dv:
                    paths[u] += paths[v]
        # Farthest first: a node's dependency is complete before its predecessors read it.
        for i in range(tail - 1, 0, -1):
            w = queue[i]
            share = (1.0 + dependency[w]) / paths[w]
            before = dist[w] - 1
            for e in range(indptr[w], indptr[w + 1]):
                v = indices[e]
                if dist[v] == before:
                    dependency[v] += paths[v] * share
            through[w] += dependency[w]
    return inverse, through


@njit(nogil=True, cache=True)
def triangle_and_path_sums(
        indptr: np.ndarray, indices: np.ndarray, out_start: np.ndarray, reverse: np.ndarray, p: np.ndarray,
        m: np.ndarray, sources: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Both kernels in one call, so a worker thread needs the GIL only to start and end."""
    pp, pm = triangle_sums(indptr, indices, out_start, reverse, p, m)
    inverse, through = path_sums(indptr, indices, sources)
    return pp, pm, inverse, through


def warm_up() -> None:
    """Compile (or load from cache) every kernel on a tiny graph before threads use them."""
    indptr = np.array([0, 1, 2], dtype=np.int64)
    indices = np.array([1, 0], dtype=np.int64)
    ones = np.ones(2)
    triangle_and_path_sums(indptr, indices, np.array([0, 2], dtype=np.int64),
                           np.array([1, 0], dtype=np.int64), ones, ones, np.array([0], dtype=np.int64))
