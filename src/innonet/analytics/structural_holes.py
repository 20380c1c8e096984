"""Burt's structural holes: how far an organisation's partners are tied to each other.

Weighted exactly as networkx defines them (``networkx.constraint`` and
``networkx.effective_size``): the proportional tie p(i, j) = w(i, j) / Σ_k w(i, k) and, for
redundancy, the tie scaled by the partner's strongest tie m(j, q) = w(j, q) / max_k w(j, k).
Vertices without partners get NaN, as in networkx.
"""

import numpy as np

from innonet.analytics._kernels import triangle_sums
from innonet.analytics.graph import ranked_arcs

MEASURES = ("constraint", "effective_size", "efficiency", "hierarchy")


def structural_holes(G, weight="weight"):
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


def structural_holes_from_arcs(arcs, n):
    """:func:`structural_holes` on a graph already indexed by :func:`ranked_arcs`."""
    p, m = tie_proportions(arcs, n)
    indirect, redundancy = triangle_sums(arcs.indptr, arcs.indices, arcs.out_start,
                                         arcs.reverse, p, m)
    return measures_from_sums(arcs, n, p, indirect, redundancy)


def tie_proportions(arcs, n):
    """p (share of the vertex's total tie strength) and m (share of its strongest tie) per arc."""
    row_sum = np.bincount(arcs.source, arcs.weight, minlength=n)
    row_max = np.zeros(n)
    np.maximum.at(row_max, arcs.source, arcs.weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        return arcs.weight / row_sum[arcs.source], arcs.weight / row_max[arcs.source]


def measures_from_sums(arcs, n, p, indirect, redundancy):
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


def constraint(G, weight="weight"):
    """Burt's constraint of every vertex (``networkx.constraint``); see :func:`structural_holes`.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> constraint(collaboration_graph(3, [0, 0, 1], [1, 2, 2])).round(4).tolist()
    [1.125, 1.125, 1.125]
    """
    return structural_holes(G, weight)["constraint"]


def effective_size(G, weight="weight"):
    """Burt's effective size of every vertex (``networkx.effective_size``).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> effective_size(collaboration_graph(3, [0, 0, 1], [1, 2, 2])).tolist()
    [1.0, 1.0, 1.0]
    """
    return structural_holes(G, weight)["effective_size"]
