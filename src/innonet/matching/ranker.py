"""The learned ranker: which candidates an organisation is likeliest to work with next.

It learns from the history alone, with a strict temporal split: for each of the two
latest years before the history's end, the features come from the projects up to the
year before and the answers (who did work together) from that year. Two questions are
learned separately: "new partners" (existing partners left out, no need text: the
asker's own words stand in for it) and "who joins this consortium" (a need text; existing
partners may come back).
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from innonet.matching import features
from innonet.matching.history import History, ParticipationRow, history_until

if TYPE_CHECKING:
    import lightgbm


class Scorer(Protocol):
    """A learned ranker: LightGBM's, or its trees read back from their text."""

    def predict(self, features: np.ndarray) -> np.ndarray: ...

NEW_PARTNERS, CONSORTIUM = "new_partners", "consortium"
TRAINING_YEARS = 2
# LambdaMART with small trees and many examples per leaf: the signal is spread over many
# weak features, and small trees keep the model from learning one year's accidents.
PARAMETERS = {"objective": "lambdarank", "n_estimators": 500, "learning_rate": 0.05,
              "num_leaves": 7, "min_child_samples": 500, "lambdarank_truncation_level": 50,
              "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8,
              "random_state": 0, "deterministic": True, "force_row_wise": True, "verbose": -1}
BATCH = 100


@dataclass
class Query:
    asker: int
    need: str | None
    truth: set[int]


def new_partner_queries(rows: list[ParticipationRow], history: History, keys: list, year: int) -> list[Query]:
    """Every organisation of the history with a partner there and a new one in ``year``."""
    index = {key: i for i, key in enumerate(keys)}
    members = defaultdict(set)
    for r in rows:
        if r["year"] == year and r["org"] in index:
            members[r["project"]].add(index[r["org"]])
    found: defaultdict[int, set[int]] = defaultdict(set)
    for group in members.values():
        for q in group:
            found[q] |= group - {q}
    queries = []
    for q in sorted(found):
        known = set(history.partners(q).tolist())
        if known and (truth := found[q] - known):
            queries.append(Query(q, None, truth))
    return queries


def consortium_queries(rows: list[ParticipationRow], texts: dict, keys: list, year: int) -> list[Query]:
    """Every project starting in ``year`` with words, exactly one coordinator in the
    history and two other participants there: the coordinator asks with the project's
    words, the others are the answer."""
    index = {key: i for i, key in enumerate(keys)}
    projects = defaultdict(list)
    for r in rows:
        if r["year"] == year:
            projects[r["project"]].append(r)
    queries = []
    for project in sorted(projects):
        if not texts.get(project):
            continue
        coordinators = [r["org"] for r in projects[project] if r["coordinator"]]
        if len(coordinators) != 1 or coordinators[0] not in index:
            continue
        q = index[coordinators[0]]
        others = {index[r["org"]] for r in projects[project] if r["org"] in index} - {q}
        if len(others) >= 2:
            queries.append(Query(q, texts[project], others))
    return queries


def candidate_sets(history: History, queries: list[Query], *,
                   exclude_partners: bool) -> Iterator[features.Candidates]:
    """The candidates of each query, computing the walks a hundred queries at a time."""
    for start in range(0, len(queries), BATCH):
        batch = queries[start:start + BATCH]
        walks = history.walks([query.asker for query in batch])
        for column, query in enumerate(batch):
            yield features.candidates(history, query.asker,
                                      history.need_vector(query.need, query.asker),
                                      history.need_meaning(query.need, query.asker),
                                      walks[:, column], exclude_partners=exclude_partners)


def fit(rows: list[ParticipationRow], texts: dict, last_year: int, question: str,
        max_queries: int = 2000) -> "lightgbm.LGBMRanker | None":
    """Train on the TRAINING_YEARS years before ``last_year`` (history up to the year
    before each). None when the history is too short to hold one such year."""
    tables, labels, groups = [], [], []
    for year in range(last_year - TRAINING_YEARS + 1, last_year + 1):
        history, keys = history_until(rows, texts, year - 1)
        if history.m == 0:
            continue
        if question == NEW_PARTNERS:
            queries = new_partner_queries(rows, history, keys, year)
        else:
            queries = consortium_queries(rows, texts, keys, year)
        if len(queries) > max_queries:  # enough to learn from; keeps training quick
            chosen = np.random.default_rng(year).choice(len(queries), max_queries, replace=False)
            queries = [queries[i] for i in sorted(chosen)]
        for query, pool in zip(queries, candidate_sets(history, queries,
                                                       exclude_partners=question == NEW_PARTNERS)):
            if pool.ids.size:
                tables.append(pool.features)
                labels.append(np.isin(pool.ids, list(query.truth)).astype(int))
                groups.append(pool.ids.size)
    if not groups or not any(label.any() for label in labels):
        return None
    import lightgbm  # here, not above: answering a search never needs it (see Trees)

    model = lightgbm.LGBMRanker(**PARAMETERS)  # type: ignore[arg-type]
    model.fit(np.vstack(tables), np.concatenate(labels), group=groups)
    return model


def to_text(model: "lightgbm.LGBMRanker | None") -> str:
    """The model in LightGBM's text format, "" for None (nothing to learn from)."""
    return "" if model is None else model.booster_.model_to_string()


def from_text(text: str) -> "Trees | None":
    """A model stored with to_text (it predicts like the trained one); None for ""."""
    return Trees.from_text(text) if text else None


# LightGBM's decision_type bits: categorical split, missing values go left, missing type.
CATEGORICAL, DEFAULT_LEFT = 1, 2
MISSING_ZERO, MISSING_NAN = 1, 2
ZERO = 1e-35  # LightGBM's kZeroThreshold: a value this close to 0 counts as 0


@dataclass
class Trees:
    """A learned ranker read back from LightGBM's text format, scoring as LightGBM does.

    Answering a search only sums the leaves its candidates fall into; doing that here
    spares every process that answers searches from loading LightGBM and scikit-learn
    (seconds for a command-line search). Arrays are trees × nodes, padded; a child below
    zero is the leaf ``~child``.
    """

    feature: np.ndarray
    threshold: np.ndarray
    decision: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf_value: np.ndarray

    @classmethod
    def from_text(cls, text: str) -> "Trees":
        blocks = text.split("end of trees")[0].split("\nTree=")[1:]
        trees = [dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line) for block in blocks]
        if any(int(tree.get("num_cat", 0)) for tree in trees):
            raise ValueError("a ranker with categorical splits cannot be read")
        nodes = max([int(tree["num_leaves"]) - 1 for tree in trees] + [1])
        leaves = max([int(tree["num_leaves"]) for tree in trees] + [1])

        def table(key: str, dtype: type, width: int, fill: float) -> np.ndarray:
            rows: np.ndarray = np.full((len(trees), width), fill, dtype=dtype)
            for row, tree in zip(rows, trees):
                values = tree.get(key, "").split()
                row[:len(values)] = np.array(values, dtype=float).astype(dtype)
            return rows

        return cls(table("split_feature", np.int64, nodes, 0), table("threshold", float, nodes, 0.0),
                   table("decision_type", np.int64, nodes, 0), table("left_child", np.int64, nodes, -1),
                   table("right_child", np.int64, nodes, -1), table("leaf_value", float, leaves, 0.0))

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Each row's score: the sum over trees of the leaf it reaches, added tree by tree
        in order as LightGBM adds them (so the scores agree to the last digit)."""
        x_all = np.asarray(features, dtype=float)
        count = len(self.leaf_value)
        # A tree of one leaf (no split: both children of its padded root are leaf 0) starts
        # at that leaf, any other at its root.
        single = (self.left[:, 0] == -1) & (self.right[:, 0] == -1)
        node = np.repeat(np.where(single, -1, 0)[:, None], len(x_all), axis=1)  # trees × rows
        while (live := node >= 0).any():  # one level down per pass, in every tree at once
            tree, row = np.nonzero(live)
            at = node[tree, row]
            x = x_all[row, self.feature[tree, at]]
            decision = self.decision[tree, at]
            missing = (decision >> 2) & 3
            nan = np.isnan(x)
            x = np.where(nan & (missing != MISSING_NAN), 0.0, x)
            to_default = ((missing == MISSING_ZERO) & (np.abs(x) <= ZERO)) | ((missing == MISSING_NAN) & nan)
            go_left = np.where(to_default, (decision & DEFAULT_LEFT) > 0, x <= self.threshold[tree, at])
            node[tree, row] = np.where(go_left, self.left[tree, at], self.right[tree, at])
        reached = self.leaf_value[np.arange(count)[:, None], ~node]
        scores = np.zeros(len(x_all))
        for values in reached:
            scores += values
        return scores


def order(model: Scorer | None, pool: features.Candidates) -> tuple[np.ndarray, np.ndarray]:
    """The pool's candidates best first, with their scores."""
    if pool.ids.size == 0:
        return pool.ids, np.zeros(0)
    scores = model.predict(pool.features) if model is not None else pool.feature("walk")
    best_first = np.argsort(-scores, kind="stable")
    return pool.ids[best_first], scores[best_first]
