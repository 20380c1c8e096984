"""Communities: groups of organisations that work more with each other than with others."""

import igraph as ig
import numpy as np

from innonet.analytics.graph import edge_arrays, seeded


def communities(G: ig.Graph, weight: str | None = "weight", resolution: float = 1.0,
                seed: int | None = 0) -> np.ndarray:
    """Leiden communities maximising modularity; community 0 is the largest.

    Parameters
    ----------
    G : igraph.Graph
    weight : str or None
    resolution : float
        Above 1 gives more, smaller communities.
    seed : int
        The same seed and graph give the same communities.

    Returns
    -------
    numpy.ndarray
        The community of each vertex.

    Examples
    --------
    Two triangles joined by one edge:

    >>> from innonet.analytics.graph import collaboration_graph
    >>> G = collaboration_graph(6, [0, 0, 1, 3, 3, 4, 2], [1, 2, 2, 4, 5, 5, 3])
    >>> communities(G).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    n = G.vcount()
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    with seeded(seed):
        found = G.community_leiden(objective_function="modularity", weights=weight,
                                   resolution=resolution, n_iterations=2)
    raw = np.asarray(found.membership, dtype=np.int64)
    sizes = np.bincount(raw)
    # Largest first, ties by first member, so numbering does not depend on Leiden's.
    first_member = np.full(sizes.size, n)
    np.minimum.at(first_member, raw, np.arange(n))
    order = np.lexsort((first_member, -sizes))
    renumber = np.empty_like(order)
    renumber[order] = np.arange(order.size)
    return renumber[raw]


def modularity(G: ig.Graph, membership: np.ndarray, weight: str | None = "weight", resolution: float = 1.0) -> float:
    """Newman's modularity of a partition (``networkx.community.modularity``).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> G = collaboration_graph(6, [0, 0, 1, 3, 3, 4, 2], [1, 2, 2, 4, 5, 5, 3])
    >>> round(modularity(G, [0, 0, 0, 1, 1, 1]), 4)
    0.3571
    """
    if G.ecount() == 0:
        return 0.0
    return float(G.modularity(list(membership), weights=weight, resolution=resolution))


def community_links(G: ig.Graph, membership: np.ndarray, weight: str | None = "weight",
                    keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total link weight between each pair of different communities.

    Parameters
    ----------
    G : igraph.Graph
    membership : array_like of int
        The community of each vertex.
    keep : array_like of bool, optional
        Count only links whose both ends are marked here.

    Returns
    -------
    a, b, weights : numpy.ndarray
        Community pairs (a < b) and their total weight, in order of (a, b).

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> G = collaboration_graph(4, [0, 1, 2, 0], [1, 2, 3, 3], weight=[1.0, 2.0, 1.0, 0.5])
    >>> [x.tolist() for x in community_links(G, [0, 0, 1, 1])]
    [[0], [1], [2.5]]
    """
    membership = np.asarray(membership, dtype=np.int64)
    sources, targets, weights = edge_arrays(G, weight)
    a, b = membership[sources], membership[targets]
    across = a != b
    if keep is not None:
        keep = np.asarray(keep, dtype=bool)
        across &= keep[sources] & keep[targets]
    groups = int(membership.max(initial=0)) + 1
    pairs, position = np.unique(np.minimum(a, b)[across] * groups + np.maximum(a, b)[across],
                                return_inverse=True)
    totals = np.bincount(position, weights[across], minlength=pairs.size)
    return pairs // groups, pairs % groups, totals
