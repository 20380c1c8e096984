"""What the partner finder knows about each candidate for one asking organisation: the
candidate pool and, for each candidate, the features the learned ranker reads.

Every feature uses only the history (projects up to its last year), so a ranker trained
on an earlier history and tested on a later year never sees the future.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from innonet.matching.history import History, NeedWords

# How many candidates each pool source contributes: the closest in the network, in words,
# by similar projects, by shared projects, and the busiest organisations of late.
POOL_SIZES = {"walk": 300, "profile_fit": 300, "similar_projects": 300,
              "shared_projects": 300, "recent_activity": 200}
SIMILAR_PROJECTS = 50

# Features of a pair (asker, candidate), in the order the ranker reads them.
PAIR_FEATURES = {
    "shared_projects": "projects the two have done together",
    "recent_shared": "projects done together, each counted by its age (half per year)",
    "coordinated_together": "projects the asker coordinated with the candidate in them",
    "common_partners": "partners the two have in common",
    "adamic_adar": "common partners, each counted more when it has few partners",
    "walk": "personalised PageRank from the asker (α 0.85)",
    "recent_two_steps": "chance of reaching the candidate through a partner's recent project",
    "profile_fit": "word similarity between the need and the candidate's profile",
    "best_project_fit": "word similarity between the need and the candidate's closest project",
    "similar_projects": "how often the candidate took part in the 50 projects closest to the need",
    "shared_project_fit": "word similarity between the need and the closest project the two shared",
    "meaning_fit": "closeness in meaning (word embeddings) of the need and the candidate's profile",
    "best_project_meaning": "closeness in meaning of the need and the candidate's closest project",
    "similar_meaning_projects": "how often the candidate took part in the 50 projects closest "
                                "in meaning to the need",
}
CANDIDATE_FEATURES = {
    "partners": "the candidate's number of partners",
    "projects": "the candidate's number of projects",
    "projects_last_year": "projects it started in the history's last year",
    "projects_year_before": "projects it started the year before",
    "coordinated": "projects it coordinated",
    "years_active": "years since its first project",
    "kind": "its kind (company, university, …)",
    "same_country": "1 when it is in the asker's country",
    "asker_partners": "the asker's number of partners",
    "asker_kind": "the asker's kind",
}
# Each pair feature also enters relative to the pool: value / best value, and log(1 + rank).
FEATURES = ([*PAIR_FEATURES, *CANDIDATE_FEATURES]
            + [f"{name}/best" for name in PAIR_FEATURES]
            + [f"{name} rank" for name in PAIR_FEATURES])


@dataclass
class Candidates:
    """The pool for one asker, its features (one row each) and the pair features by name."""

    asker: int
    ids: np.ndarray
    features: np.ndarray

    def feature(self, name: str) -> np.ndarray:
        return self.features[:, FEATURES.index(name)]


def pool_scores(history: History, q: int, need: NeedWords, walk: np.ndarray,
                similarity: np.ndarray) -> dict[str, np.ndarray]:
    """The scores that choose the pool (POOL_SIZES), for every organisation. ``need`` is
    the need's TF-IDF row, ``similarity`` its similarity to each project."""
    closest = top_indices(similarity, SIMILAR_PROJECTS)
    return {
        "walk": walk,
        "profile_fit": np.asarray((history.profiles @ need.T).todense()).ravel(),
        "similar_projects": history.members @ _only_at(closest, similarity ** 2, history.m),
        "shared_projects": history.shared[q].toarray().ravel(),
        "recent_activity": history.projects_last_year + history.projects_year_before,
    }


def pair_scores(history: History, q: int, ids: np.ndarray, meaning: np.ndarray,
                similarity: np.ndarray, pool: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every pair feature of q and each organisation in ``ids`` (the pool: computing them
    for every organisation would read the whole network for a few hundred rows).
    ``meaning`` is the need's embedding; ``similarity`` and ``pool`` as in pool_scores."""
    B = history.members[ids]
    closeness = history.project_meanings @ meaning.astype(history.project_meanings.dtype)
    closest_in_meaning = top_indices(closeness, SIMILAR_PROJECTS)
    asker_projects = np.zeros(history.m)
    asker_projects[history.members[q].indices] = 1.0
    coordinated = np.zeros(history.m)
    coordinated[history.coordinators[q].indices] = 1.0
    partners, A = history.adjacency[q], history.adjacency
    # Products with whole sparse matrices, then the pool's entries: slicing their columns
    # would cost more than the products.
    return {
        "shared_projects": pool["shared_projects"][ids],
        "recent_shared": B @ (asker_projects * history.recency),
        "coordinated_together": B @ coordinated,
        "common_partners": (partners @ A).toarray().ravel()[ids],
        "adamic_adar": (partners.multiply(history.inverse_log_degree) @ A).toarray().ravel()[ids],
        "walk": pool["walk"][ids],
        "recent_two_steps": (history.recent_step[q] @ history.recent_step).toarray().ravel()[ids],
        "profile_fit": pool["profile_fit"][ids],
        "best_project_fit": _max_over_projects(B, similarity),
        "similar_projects": pool["similar_projects"][ids],
        "shared_project_fit": _max_over_projects(B, similarity * asker_projects),
        "meaning_fit": history.profile_meanings[ids] @ meaning,
        "best_project_meaning": _max_over_projects(B, closeness),
        "similar_meaning_projects": B @ _only_at(closest_in_meaning,
                                                 np.maximum(closeness, 0) ** 2, history.m),
    }


def top_indices(values: np.ndarray, size: int) -> np.ndarray:
    """The indices of the ``size`` largest values; among equal values at the cut the
    lowest indices, so the choice is the same on every machine (a plain partition's is
    not).

    >>> top_indices(np.array([0.2, 0.5, 0.5, 0.1, 0.5]), 2).tolist()
    [1, 2]
    """
    size = min(size, values.size)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    cut = np.partition(values, values.size - size)[values.size - size]
    above = np.flatnonzero(values > cut)
    at_cut = np.flatnonzero(values == cut)[:size - above.size]
    return np.sort(np.concatenate([above, at_cut]))


def _only_at(indices: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """A vector of ``size`` zeros holding ``values`` at ``indices`` (multiplying by it
    sums over those projects without slicing the sparse matrix's columns)."""
    vector = np.zeros(size, dtype=values.dtype)
    vector[indices] = values[indices]
    return vector


def _max_over_projects(B: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    """For each organisation, the largest value among its projects, and never below 0
    (0 without any)."""
    best = np.zeros(B.shape[0], dtype=values.dtype)
    rows = np.flatnonzero(np.diff(B.indptr))
    if rows.size:
        best[rows] = np.maximum(np.maximum.reduceat(values[B.indices], B.indptr[rows]), 0)
    return best


def candidates(history: History, q: int, need: NeedWords, meaning: np.ndarray, walk: np.ndarray, *,
               exclude_partners: bool, allowed: np.ndarray | None = None) -> Candidates:
    """The pool for asker q and its feature rows. ``need`` is the need's TF-IDF row,
    ``meaning`` its embedding, ``walk`` the personalised PageRank from q.

    ``exclude_partners`` leaves out q's existing partners (the "new partners" question);
    ``allowed`` (a boolean mask) keeps only the organisations a user's filters let through.
    """
    similarity = np.asarray((history.project_vectors @ need.T).todense()).ravel()
    scores = pool_scores(history, q, need, walk, similarity)
    blocked = np.zeros(history.n, dtype=bool) if allowed is None else ~allowed
    blocked[q] = True
    if exclude_partners:
        blocked[history.partners(q)] = True
    picked = []
    for source, size in POOL_SIZES.items():
        # Only organisations with a positive score can join; most sources score few.
        positive = np.flatnonzero((scores[source] > 0) & ~blocked)
        picked.append(positive[top_indices(scores[source][positive], size)])
    ids = np.unique(np.concatenate(picked))
    pair_features = pair_scores(history, q, ids, meaning, similarity, scores)
    pair = np.column_stack([pair_features[name] for name in PAIR_FEATURES]) if ids.size \
        else np.zeros((0, len(PAIR_FEATURES)))
    kinds, countries = history.kinds, history.countries
    same_country = (countries[ids] == countries[q]) & (countries[ids] != "")
    candidate = np.column_stack([
        history.degree[ids], history.projects[ids], history.projects_last_year[ids],
        history.projects_year_before[ids], history.coordinated[ids],
        history.years_active[ids], kinds[ids], same_country,
        np.full(ids.size, history.degree[q]), np.full(ids.size, kinds[q])]).astype(float)
    best = pair.max(axis=0, initial=0.0)
    relative = pair / np.where(best > 0, best, 1.0)
    rank = np.log1p(np.argsort(np.argsort(-pair, axis=0, kind="stable"), axis=0))
    return Candidates(q, ids, np.hstack([pair, candidate, relative, rank]))
