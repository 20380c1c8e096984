"""The validation protocol for partner recommendation (docs/model.md), on the shared
H2020 participations file: history up to a year, truth the new partners of the next year.
"""

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from innonet.analytics import linkpred
from innonet.analytics.graph import co_participation_edges
from innonet.errors import InvalidInput, Problem
from innonet.imports.readers import read_csv

REQUIRED = ("rcn", "pic", "type", "start_year")
QUERIES = 1000
SEED = 2018


@dataclass(frozen=True)
class LinkPredictionSplit:
    """History graph, query organisations and, for each query, its true new partners."""

    pics: list[str]
    history: object  # the 0/1 adjacency (scipy CSR) of the history, organisations by PIC order
    queries: np.ndarray
    truths: list[set[int]]

    def known_partners(self, q: int) -> np.ndarray:
        A = self.history
        return A.indices[A.indptr[q]:A.indptr[q + 1]]


def read_participations(file: BinaryIO) -> list[dict]:
    """(rcn, pic, type, start year) of every participation; a bad year names its line."""
    rows = []
    for line, row in read_csv(file, required=REQUIRED):
        try:
            year = int(float(row["start_year"]))
        except ValueError:
            message = f"not a year: {row['start_year']!r}"
            raise InvalidInput(f"Line {line}: start_year: {message}.",
                               [Problem(message, field="start_year", line=line)]) from None
        rows.append({"rcn": row["rcn"], "pic": row["pic"], "type": row["type"], "year": year})
    return rows


def link_prediction_split(rows: list[dict], *, last_history_year: int = 2017,
                          queries: int = QUERIES, seed: int = SEED) -> LinkPredictionSplit:
    """The protocol's split: history ≤ ``last_history_year``, truth in the year after.

    Truth for q: organisations sharing a next-year project with q that appear in the
    history and never shared a project with q there. Queries: ``queries`` organisations of
    type PRC with a truth partner and a history partner, drawn with
    ``numpy.random.default_rng(seed).choice`` from the candidates in PIC order.
    """
    history = [r for r in rows if r["year"] <= last_history_year]
    future = [r for r in rows if r["year"] == last_history_year + 1]
    pics = sorted({r["pic"] for r in history})
    index = {p: i for i, p in enumerate(pics)}
    projects = {rcn: i for i, rcn in enumerate(sorted({r["rcn"] for r in history}))}
    sources, targets, _ = co_participation_edges(
        [projects[r["rcn"]] for r in history], [index[r["pic"]] for r in history], len(pics))
    A = linkpred.binary_adjacency(len(pics), sources, targets)
    kind = {}
    for r in rows:
        kind.setdefault(r["pic"], r["type"])
    members: dict[str, set[int]] = {}
    for r in future:
        if r["pic"] in index:
            members.setdefault(r["rcn"], set()).add(index[r["pic"]])
    next_partners: dict[int, set[int]] = {}
    for group in members.values():
        for q in group:
            next_partners.setdefault(q, set()).update(group - {q})
    candidates, truths = [], {}
    for q in range(len(pics)):
        known = set(A.indices[A.indptr[q]:A.indptr[q + 1]].tolist())
        truth = next_partners.get(q, set()) - known
        if kind[pics[q]] == "PRC" and known and truth:
            candidates.append(q)
            truths[q] = truth
    if len(candidates) < queries:
        raise InvalidInput(f"Only {len(candidates)} organisations qualify as queries; the "
                           f"protocol needs {queries}.")
    chosen = np.asarray(candidates)[np.random.default_rng(seed).choice(
        len(candidates), queries, replace=False)]
    return LinkPredictionSplit(pics, A, chosen, [truths[int(q)] for q in chosen])


def evaluate_baselines(split: LinkPredictionSplit) -> dict[str, dict[str, float]]:
    """recall@20, MRR@50 and hits@10 of the classic predictors on the split."""
    A = split.history
    rankings: dict[str, list] = {"common neighbours": [], "Adamic–Adar": [],
                                 "preferential attachment": [],
                                 "personalised PageRank": []}
    scorers = {"common neighbours": linkpred.common_neighbours,
               "Adamic–Adar": linkpred.adamic_adar,
               "preferential attachment": linkpred.preferential_attachment}
    for start in range(0, len(split.queries), 100):
        batch = split.queries[start:start + 100]
        walks = linkpred.personalised_pagerank(A, batch)
        for column, q in enumerate(batch):
            exclude = [q, *split.known_partners(q).tolist()]
            for name, scorer in scorers.items():
                rankings[name].append(linkpred.top_candidates(scorer(A, q), exclude,
                                                              linkpred.K_MRR))
            rankings["personalised PageRank"].append(
                linkpred.top_candidates(walks[:, column], exclude, linkpred.K_MRR))
    return {name: linkpred.ranking_metrics(ranked, split.truths)
            for name, ranked in rankings.items()}
