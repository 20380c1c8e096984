"""Classic link predictors and ranking metrics: who will work with whom next.

Each predictor scores every vertex as a future partner of a query vertex ``q`` on an
unweighted, symmetric adjacency matrix ``A`` (scipy CSR). They are the baselines innonet's
partner finder is measured against (docs/model.md, the validation protocol).
"""

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

K_RECALL, K_MRR, K_HITS = 20, 50, 10


def binary_adjacency(n: int, sources: np.ndarray, targets: np.ndarray) -> sp.csr_matrix:
    """Symmetric 0/1 adjacency (CSR) of an undirected graph given by its edge ends.

    Examples
    --------
    >>> binary_adjacency(3, [0, 1], [1, 2]).toarray().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    rows = np.concatenate([np.asarray(sources), np.asarray(targets)])
    cols = np.concatenate([np.asarray(targets), np.asarray(sources)])
    A = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    A.setdiag(0)
    A.eliminate_zeros()
    A.data[:] = 1.0
    return A


def common_neighbours(A: sp.csr_matrix, q: int) -> np.ndarray:
    """Number of partners each vertex shares with ``q``.

    Examples
    --------
    >>> common_neighbours(binary_adjacency(4, [0, 0, 1, 2], [1, 2, 3, 3]), 0).tolist()
    [2.0, 0.0, 0.0, 2.0]
    """
    return (A[q] @ A).toarray().ravel()


def adamic_adar(A: sp.csr_matrix, q: int) -> np.ndarray:
    """Σ 1 / log(degree) over the partners each vertex shares with ``q``.

    Examples
    --------
    >>> adamic_adar(binary_adjacency(4, [0, 0, 1, 2], [1, 2, 3, 3]), 0).round(3).tolist()
    [2.885, 0.0, 0.0, 2.885]
    """
    degree = np.asarray(A.sum(axis=1)).ravel()
    weight = np.zeros_like(degree)
    weight[degree > 1] = 1 / np.log(degree[degree > 1])
    return (A[q].multiply(weight) @ A).toarray().ravel()


def preferential_attachment(A: sp.csr_matrix, q: int) -> np.ndarray:
    """degree(q) × degree(v): popular organisations attract new partners.

    Examples
    --------
    >>> preferential_attachment(binary_adjacency(3, [0, 1], [1, 2]), 0).tolist()
    [1.0, 2.0, 1.0]
    """
    degree = np.asarray(A.sum(axis=1)).ravel()
    return degree[q] * degree


def transition_matrix(A: sp.csr_matrix) -> sp.csr_matrix:
    """The random walk's step: column-stochastic, so that ``walk @ scores`` moves the mass
    of each vertex evenly to its partners."""
    degree = np.asarray(A.sum(axis=1)).ravel()
    return (sp.diags(1 / np.maximum(degree, 1)) @ A).T.tocsr()


def personalised_pagerank(A: sp.csr_matrix, queries: list[int], alpha: float = 0.85, iterations: int = 30,
                          walk: sp.csr_matrix | None = None) -> np.ndarray:
    """PageRank restarting at each query vertex: one column of scores per query.

    Power iteration from the restart vector; after 30 iterations the remaining error is
    below alpha³⁰ ≈ 0.008 of the total mass. Vertices without partners keep their mass.
    ``walk`` is ``transition_matrix(A)`` when the caller keeps it for many calls; the
    scores have its precision (float32 halves the memory each step reads).

    Examples
    --------
    On the path 0–1–2, walks from 0 pass through 1 most:

    >>> scores = personalised_pagerank(binary_adjacency(3, [0, 1], [1, 2]), [0])
    >>> int(scores[:, 0].argmax()), round(float(scores.sum()), 2)
    (1, 1.0)
    """
    n = A.shape[0]
    if walk is None:
        walk = transition_matrix(A)
    dangling = np.asarray(A.sum(axis=1)).ravel() == 0
    restart = np.zeros((n, len(queries)), dtype=walk.dtype)
    restart[np.asarray(queries), np.arange(len(queries))] = 1.0
    scores = restart.copy()
    for _ in range(iterations):
        stay = scores * dangling[:, None]
        scores = alpha * (walk @ scores + stay) + (1 - alpha) * restart
    return scores


def top_candidates(scores: np.ndarray, exclude: Iterable[int], k: int) -> np.ndarray:
    """The ``k`` best-scored vertices, leaving out ``exclude``.

    Ties are ordered as numpy's default ``argsort`` orders them, which can differ between
    processors; the protocol leaves ties open, and the classic predictors land within the
    spread ties allow of its reference figures (tests/matching/test_evaluation.py).

    Examples
    --------
    >>> top_candidates(np.array([0.5, 0.9, 0.1, 0.7]), exclude=[1], k=2).tolist()
    [3, 0]
    """
    masked = np.asarray(scores, dtype=float).copy()
    masked[np.asarray(list(exclude), dtype=np.int64)] = -np.inf
    return np.argsort(-masked)[:k]


def ranking_metrics(rankings: Sequence[Iterable[int]], truths: list[set[int]]) -> dict[str, float]:
    """Mean recall@20, MRR@50 and hits@10 of ranked lists against sets of true partners.

    Examples
    --------
    >>> ranking_metrics([[3, 1, 2]], [{1, 9}])
    {'recall@20': 0.5, 'mrr@50': 0.5, 'hits@10': 1.0}
    """
    recall = reciprocal = hits = 0.0
    for found, truth in zip(rankings, truths):
        ranked = list(found)
        recall += len(truth & set(ranked[:K_RECALL])) / len(truth)
        first = next((i for i, v in enumerate(ranked[:K_MRR]) if v in truth), None)
        reciprocal += 0.0 if first is None else 1 / (first + 1)
        hits += float(any(v in truth for v in ranked[:K_HITS]))
    count = max(len(truths), 1)
    return {"recall@20": recall / count, "mrr@50": reciprocal / count, "hits@10": hits / count}
