"""The two validation protocols for partner recommendation (docs/matching.md), on the
shared H2020 files: history up to 2017, the answers in 2018.

- New partners: 1,000 companies; do the recommended organisations include those they
  first work with in 2018? innonet against common neighbours, Adamic–Adar, preferential
  attachment and personalised PageRank.
- Need-based: the coordinator of each 2018 project asks with the project's words; do the
  recommended organisations include its consortium? innonet against text only, network
  only and a plain blend of the two.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from innonet.analytics import linkpred
from innonet.errors import InvalidInput, Problem
from innonet.matching import ranker
from innonet.matching.history import KIND_CODES, History, ParticipationRow, history_until
from innonet.organisations.models import KIND_FROM_CORDIS
from innonet.tables import read_csv

REQUIRED = ("rcn", "pic", "type", "start_year")
LAST_HISTORY_YEAR = 2017
QUERIES = 1000
SEED = 2018
INNONET = "innonet"
BASELINES = ("common neighbours", "Adamic–Adar", "preferential attachment",
             "personalised PageRank")
REFERENCES = ("text only", "network only", "blend")


@dataclass
class Protocol:
    """A history, its queries (asker, need, true partners) and the rows it came from."""

    rows: list[ParticipationRow]
    texts: dict[str, str]
    history: History
    pics: list[str]
    queries: list[ranker.Query]

    @property
    def truths(self) -> list[set[int]]:
        return [query.truth for query in self.queries]


def read_participations(file: BinaryIO) -> list[dict]:
    """The participations as history rows (docs: history.history_until); a bad year or
    type names its line."""
    rows = []
    for line, row in read_csv(file, required=REQUIRED):
        try:
            year = int(float(row["start_year"]))
        except ValueError:
            message = f"not a year: {row['start_year']!r}"
            raise InvalidInput(f"Line {line}: start_year: {message}.",
                               [Problem(message, field="start_year", line=line)]) from None
        if row["type"] not in KIND_FROM_CORDIS:
            message = f"not a CORDIS type: {row['type']!r}"
            raise InvalidInput(f"Line {line}: type: {message}.",
                               [Problem(message, field="type", line=line)])
        rows.append({"project": row["rcn"], "org": row["pic"], "year": year,
                     "coordinator": row.get("role") == "coordinator",
                     "kind": KIND_CODES[KIND_FROM_CORDIS[row["type"]]],
                     "country": row.get("country") or ""})
    return rows


def read_project_texts(file: BinaryIO) -> dict[str, str]:
    """Each project's words, ``f"{title}. {topic_description}"``, by rcn."""
    return {row["rcn"]: f"{row['title']}. {row.get('topic_description') or ''}"
            for _, row in read_csv(file, required=("rcn", "title"))}


def link_prediction_protocol(rows: list[ParticipationRow], texts: dict[str, str], *,
                             last_history_year: int = LAST_HISTORY_YEAR, queries: int = QUERIES,
                             seed: int = SEED) -> Protocol:
    """History ≤ ``last_history_year``; truth for q: organisations sharing a next-year
    project with q that appear in the history and never shared a project with q there.
    Queries: ``queries`` companies (CORDIS PRC) with a truth partner and a history
    partner, drawn with ``numpy.random.default_rng(seed).choice`` in PIC order."""
    history, pics = history_until(rows, texts, last_history_year)
    company = KIND_CODES["company"]
    eligible = [query for query in ranker.new_partner_queries(rows, history, pics,
                                                              last_history_year + 1)
                if history.kinds[query.asker] == company]
    if len(eligible) < queries:
        raise InvalidInput(f"Only {len(eligible)} organisations qualify as queries; the "
                           f"protocol needs {queries}.")
    chosen = np.random.default_rng(seed).choice(len(eligible), queries, replace=False)
    return Protocol(rows, texts, history, pics, [eligible[i] for i in chosen])


def need_protocol(rows: list[ParticipationRow], texts: dict[str, str], *,
                  last_history_year: int = LAST_HISTORY_YEAR) -> Protocol:
    """Every next-year project with words, one coordinator in the history and two other
    participants there; the coordinator asks with ``f"{title}. {topic_description}"``."""
    history, pics = history_until(rows, texts, last_history_year)
    found = ranker.consortium_queries(rows, texts, pics, last_history_year + 1)
    if not found:
        raise InvalidInput(f"No project starting in {last_history_year + 1} qualifies as a "
                           "query: the need-based protocol needs project texts.")
    return Protocol(rows, texts, history, pics, found)


def evaluate_link_prediction(protocol: Protocol, *, with_innonet: bool = True) -> dict[str, dict]:
    """recall@20, MRR@50 and hits@10 of innonet and the classic predictors."""
    history = protocol.history
    A = history.adjacency
    scorers = {"common neighbours": linkpred.common_neighbours,
               "Adamic–Adar": linkpred.adamic_adar,
               "preferential attachment": linkpred.preferential_attachment}
    rankings: dict[str, list] = {name: [] for name in BASELINES}
    for start in range(0, len(protocol.queries), ranker.BATCH):
        batch = [query.asker for query in protocol.queries[start:start + ranker.BATCH]]
        walks = linkpred.personalised_pagerank(A, batch)
        for column, q in enumerate(batch):
            exclude = [q, *history.partners(q).tolist()]
            for name, scorer in scorers.items():
                rankings[name].append(linkpred.top_candidates(scorer(A, q), exclude,
                                                              linkpred.K_MRR))
            rankings["personalised PageRank"].append(
                linkpred.top_candidates(walks[:, column], exclude, linkpred.K_MRR))
    if with_innonet:
        model = ranker.fit(protocol.rows, protocol.texts, LAST_HISTORY_YEAR, ranker.NEW_PARTNERS)
        rankings[INNONET] = _innonet_rankings(protocol, model, exclude_partners=True)
    return {name: linkpred.ranking_metrics(ranked, protocol.truths)
            for name, ranked in rankings.items()}


def evaluate_needs(protocol: Protocol, *, with_innonet: bool = True) -> dict[str, dict]:
    """recall@20 and MRR@50 of innonet and the three reference methods of DATA.md."""
    history = protocol.history
    rankings: dict[str, list] = {name: [] for name in REFERENCES}
    words = _ReferenceWords(history)
    for query in protocol.queries:
        q = query.asker
        text = words.scores(query.need, q)
        shared = history.shared[q].toarray().ravel()
        two_steps = (history.shared[q] @ history.shared).toarray().ravel()
        # Shared projects first; among equals, more two-step paths first.
        network = shared + two_steps / (two_steps.max() + 1)
        blend = _rank_of(text) + _rank_of(network)  # a Borda count of the two orders
        for name, scores in zip(REFERENCES, (text, network, blend)):
            rankings[name].append(linkpred.top_candidates(scores, [q], linkpred.K_MRR))
    if with_innonet:
        model = ranker.fit(protocol.rows, protocol.texts, LAST_HISTORY_YEAR, ranker.CONSORTIUM)
        rankings[INNONET] = _innonet_rankings(protocol, model, exclude_partners=False)
    return {name: linkpred.ranking_metrics(ranked, protocol.truths)
            for name, ranked in rankings.items()}


class _ReferenceWords:
    """The text-only reference of DATA.md: TF-IDF with scikit-learn's own words (sublinear
    tf, min_df 2, English stop words), an organisation's profile the L2-normalised sum of
    its projects' vectors. innonet's own terms (innonet.analytics.words) are not the
    reference's."""

    def __init__(self, history: History) -> None:
        self.vectoriser = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english")
        projects = self.vectoriser.fit_transform(history.project_texts)
        self.profiles = normalize(sp.csr_matrix(history.members @ projects))

    def scores(self, need: str | None, asker: int) -> np.ndarray:
        vector = self.vectoriser.transform([need or ""])
        vector = normalize(vector) if vector.nnz else self.profiles[asker]
        return np.asarray((self.profiles @ vector.T).todense()).ravel()


def _rank_of(scores: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(scores))


def _innonet_rankings(protocol: Protocol, model: ranker.Scorer | None, *, exclude_partners: bool) -> list:
    return [ranker.order(model, pool)[0][:linkpred.K_MRR]
            for pool in ranker.candidate_sets(protocol.history, protocol.queries,
                                              exclude_partners=exclude_partners)]


def ratios(results: dict[str, dict], references: Iterable[str]) -> dict[str, float]:
    """innonet's figure over the best reference's, per metric."""
    return {metric: value / max(max(results[name][metric] for name in references), 1e-12)
            for metric, value in results[INNONET].items()}

