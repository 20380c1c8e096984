"""Burt's structural holes: how far an organisation's partners are tied to each other.

Weighted exactly as networkx defines them (``networkx.constraint`` and
``networkx.effective_size``): the proportional tie p(i, j) = w(i, j) / Σ_k w(i, k) and, for
redundancy, the tie scaled by the partner's strongest tie m(j, q) = w(j, q) / max_k w(j, k).
Vertices without partners get NaN, as in networkx.
"""

import igraph as ig
import numpy as np
import scipy.sparse as sp

from innonet.analytics.graph import RankedArcs, edge_arrays, ranked_arcs, ranked_arcs_of_edges

MEASURES = ("constraint", "effective_size", "efficiency", "hierarchy")


def structural_holes(G: ig.Graph, weight: str | None = "weight") -> dict[str, np.ndarray]:
    """Constraint, effective size, efficiency and hierarchy of every vertex in one pass.

    Parameters
    ----------
    G : igraph.Graph
        Undirected graph.
    weight : str or None
        Edge attribute holding tie strength; None counts every tie as 1.

    Returns
    -------
    dict of str to numpy.ndarray
        ``constraint`` (Burt's aggregate constraint), ``effective_size`` (partners minus
        their redundancy), ``efficiency`` (effective size / number of partners) and
        ``hierarchy`` (how far the constraint is concentrated on one partner, Burt 1992:
        0 when spread evenly, 1 when all on one; NaN with fewer than two partners).

    Examples
    --------
    A star: the centre's partners are not tied to each other.

    >>> from innonet.analytics.graph import collaboration_graph
    >>> holes = structural_holes(collaboration_graph(4, [0, 0, 0], [1, 2, 3]))
    >>> holes["constraint"].round(4).tolist()
    [0.3333, 1.0, 1.0, 1.0]
    >>> holes["effective_size"].tolist()[0], holes["efficiency"].tolist()[0]
    (3.0, 1.0)
    """
    return structural_holes_from_arcs(ranked_arcs(G, weight), G.vcount())


def structural_holes_from_arcs(arcs: RankedArcs, n: int) -> dict[str, np.ndarray]:
    """:func:`structural_holes` on a graph already indexed by :func:`ranked_arcs`."""
    p, m = tie_proportions(arcs, n)
    # numba loads on first use, not when innonet starts: a partner search never needs it.
    from innonet.analytics._kernels import triangle_sums
    indirect, redundancy = triangle_sums(arcs.indptr, arcs.indices, arcs.out_start,
                                         arcs.reverse, p, m)
    return measures_from_sums(arcs, n, p, indirect, redundancy)


def tie_proportions(arcs: RankedArcs, n: int) -> tuple[np.ndarray, np.ndarray]:
    """p (share of the vertex's total tie strength) and m (share of its strongest tie) per arc."""
    row_sum = np.bincount(arcs.source, arcs.weight, minlength=n)
    row_max = np.zeros(n)
    np.maximum.at(row_max, arcs.source, arcs.weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        return arcs.weight / row_sum[arcs.source], arcs.weight / row_max[arcs.source]


def measures_from_sums(arcs: RankedArcs, n: int, p: np.ndarray, indirect: np.ndarray,
                       redundancy: np.ndarray) -> dict[str, np.ndarray]:
    """The four measures from the per-arc sums of :func:`_kernels.triangle_sums`."""
    if arcs.indices.size == 0:
        return {name: np.full(n, np.nan) for name in MEASURES}
    local_constraint = (p + indirect) ** 2
    partners = np.diff(arcs.indptr).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        constraint = np.bincount(arcs.source, local_constraint, minlength=n)
        effective = partners - np.bincount(arcs.source, redundancy, minlength=n)
        ratio = local_constraint / (constraint / partners)[arcs.source]
        hierarchy = np.bincount(arcs.source, ratio * np.log(ratio), minlength=n) \
            / (partners * np.log(partners))
        efficiency = effective / partners
    isolated = partners == 0
    constraint[isolated] = effective[isolated] = efficiency[isolated] = np.nan
    hierarchy[partners < 2] = np.nan
    measures = {"constraint": constraint, "effective_size": effective,
                "efficiency": efficiency, "hierarchy": hierarchy}
    return {name: arcs.per_vertex(values) for name, values in measures.items()}


def constraint(G: ig.Graph, weight: str | None = "weight") -> np.ndarray:
    """Burt's constraint of every vertex (``networkx.constraint``); see :func:`structural_holes`.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> constraint(collaboration_graph(3, [0, 0, 1], [1, 2, 2])).round(4).tolist()
    [1.125, 1.125, 1.125]
    """
    return structural_holes(G, weight)["constraint"]


def constraint_of_edges(n: int, sources: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`constraint` of a graph given as its edge arrays, without building it.

    Examples
    --------
    >>> constraint_of_edges(3, [0, 0, 1], [1, 2, 2], [1.0, 1.0, 1.0]).round(4).tolist()
    [1.125, 1.125, 1.125]
    """
    return structural_holes_from_arcs(ranked_arcs_of_edges(n, sources, targets, weights), n)["constraint"]


def effective_size(G: ig.Graph, weight: str | None = "weight") -> np.ndarray:
    """Burt's effective size of every vertex (``networkx.effective_size``).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> effective_size(collaboration_graph(3, [0, 0, 1], [1, 2, 2])).tolist()
    [1.0, 1.0, 1.0]
    """
    return structural_holes(G, weight)["effective_size"]


def weighted_adjacency(G: ig.Graph, weight: str | None = "weight") -> sp.csr_matrix:
    """Symmetric weighted adjacency (CSR) of an undirected graph; parallel edges add up.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> weighted_adjacency(collaboration_graph(3, [0, 1], [1, 2], weight=[2.0, 1.0])).toarray().tolist()
    [[0.0, 2.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    n = G.vcount()
    sources, targets, weights = edge_arrays(G, weight)
    loops = sources == targets
    sources, targets, weights = sources[~loops], targets[~loops], weights[~loops]
    W = sp.csr_matrix((np.concatenate([weights, weights]),
                       (np.concatenate([sources, targets]), np.concatenate([targets, sources]))),
                      shape=(n, n))
    W.sum_duplicates()
    return W


def local_measures(W: sp.csr_matrix, vertices: list[int] | np.ndarray | None) -> dict[str, np.ndarray]:
    """Degree, strength, clustering and the structural-hole measures of the chosen
    ``vertices`` only, from the weighted adjacency ``W`` (see :func:`weighted_adjacency`).

    The same values as :func:`innonet.analytics.node_metrics` gives those vertices, computed
    from each one's own partners: what a change to a few ties needs, without the whole graph.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> W = weighted_adjacency(collaboration_graph(4, [0, 0, 0, 1], [1, 2, 3, 2]))
    >>> m = local_measures(W, [0, 3])
    >>> m["degree"].tolist(), m["clustering"].round(3).tolist(), m["constraint"].round(3).tolist()
    ([3, 1], [0.333, 0.0], [0.611, 1.0])
    """
    vertices = np.asarray(vertices, dtype=np.int64)
    strength = np.asarray(W.sum(axis=1)).ravel()
    out = {name: np.full(vertices.size, np.nan) for name in ("strength", "clustering", *MEASURES)}
    out["degree"] = np.diff(W.indptr)[vertices].astype(np.int64)
    for i, u in enumerate(vertices.tolist()):
        partners = W.indices[W.indptr[u]:W.indptr[u + 1]]
        k = partners.size
        out["strength"][i] = strength[u]
        out["clustering"][i] = 0.0
        if k == 0:
            continue
        among = W[partners][:, partners]  # the ties between u's partners
        if k > 1:
            out["clustering"][i] = among.nnz / (k * (k - 1))
        # p(u, j) and, through each partner q, the indirect p(u, q) p(q, j) (Burt).
        share = W.data[W.indptr[u]:W.indptr[u + 1]] / strength[u]
        indirect = among.multiply(1 / strength[partners][:, None]).T @ share
        local = (share + indirect) ** 2
        strongest = np.asarray(W[partners].max(axis=1).todense()).ravel()
        redundancy = among.multiply(1 / strongest[:, None]) @ share
        out["constraint"][i] = local.sum()
        out["effective_size"][i] = k - redundancy.sum()
        out["efficiency"][i] = out["effective_size"][i] / k
        if k > 1:
            ratio = local / (local.sum() / k)
            with np.errstate(divide="ignore", invalid="ignore"):
                out["hierarchy"][i] = np.sum(ratio * np.log(ratio)) / (k * np.log(k))
    return out
