"""Similar ideas while an author types: the ideas closest to the text in meaning (word
embeddings) and in words (TF-IDF), among the ideas the author may read and no others.

The candidates come from the database with the access rule (service.idea_condition); the
words' weights (inverse document frequencies) are computed over those candidates only, so
an idea the author may not read changes nothing in what they are shown. Each process
keeps every idea's meaning and terms, by the last change of its text, so that a keystroke
costs one query of ids and some arithmetic (benchmarks/bench_ideas.py).
"""

import threading

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from innonet.analytics import embeddings, words
from innonet.challenges.models import Idea

# How much of the similarity is meaning rather than shared words, and the least
# similarity worth showing (both chosen on the project texts: docs/methods.md).
MEANING_SHARE = 0.5
THRESHOLD = 0.25


def idea_text(title: str, description: str | None) -> str:
    return f"{title}. {description or ''}"


def meaning_of(title: str, description: str | None) -> bytes:
    """The stored meaning of an idea's text (float32 unit vector)."""
    return embeddings.embed([idea_text(title, description)])[0].tobytes()


class Index:
    """Texts by key (an idea's id): their meanings in one matrix and their terms' sublinear
    frequencies in one sparse matrix, a row each, for this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[int, int] = {}
        self.stamps: dict[int, int | None] = {}
        self.meanings = np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
        self.terms: list[tuple[np.ndarray, np.ndarray]] = []
        self.vocabulary: dict[str, int] = {}
        self._frequencies: sp.csr_matrix | None = None

    def _term_ids(self, text: str, *, grow: bool) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the text's distinct terms and their sublinear term frequencies."""
        counts: dict[str, int] = {}
        for term in words.terms(text):
            counts[term] = counts.get(term, 0) + 1
        ids, tf = [], []
        for term, count in counts.items():
            found = self.vocabulary.get(term)
            if found is None:
                if not grow:
                    continue  # a word no candidate has adds nothing to a score
                found = self.vocabulary[term] = len(self.vocabulary)
            ids.append(found)
            tf.append(1.0 + np.log(count))
        return np.asarray(ids, dtype=np.int64), np.asarray(tf, dtype=np.float64)

    def put(self, key: int, stamp: int | None, meaning: np.ndarray, text: str) -> None:
        """Add or replace one text (under the lock)."""
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = len(self.terms)
            self.terms.append((np.zeros(0, np.int64), np.zeros(0)))
            if row >= len(self.meanings):  # grow by half at once: rarely copied
                grown = np.zeros((max(64, row * 3 // 2), embeddings.DIMENSIONS), dtype=np.float32)
                grown[:len(self.meanings)] = self.meanings
                self.meanings = grown
        self.meanings[row] = meaning
        self.terms[row] = self._term_ids(text, grow=True)
        self.stamps[key] = stamp
        self._frequencies = None

    def frequencies(self) -> sp.csr_matrix:
        """Every row's term frequencies, built again after a change."""
        with self.lock:
            if self._frequencies is None:
                lengths = np.fromiter((t[0].size for t in self.terms), dtype=np.int64, count=len(self.terms))
                indptr = np.concatenate([[0], np.cumsum(lengths)])
                indices = np.concatenate([t[0] for t in self.terms]) if lengths.sum() else np.zeros(0, np.int64)
                data = np.concatenate([t[1] for t in self.terms]) if lengths.sum() else np.zeros(0)
                self._frequencies = sp.csr_matrix((data, indices, indptr),
                                                  shape=(len(self.terms), max(1, len(self.vocabulary))))
            return self._frequencies

    def similarities(self, keys: list[int], text: str, meaning_share: float) -> np.ndarray:
        """The similarity of ``text`` to each of these texts: a blend of the cosine of the
        meanings and the cosine of the words' TF-IDF vectors, with document frequencies
        counted among these texts only."""
        rows = np.fromiter((self.rows[k] for k in keys), dtype=np.int64, count=len(keys))
        scores = np.zeros(len(keys))
        if meaning_share > 0:
            scores += meaning_share * (self.meanings[rows] @ embeddings.embed([text])[0]).astype(np.float64)
        return scores + (1 - meaning_share) * self._word_similarity(rows, text)

    def _word_similarity(self, rows: np.ndarray, text: str) -> np.ndarray:
        query_ids, query_tf = self._term_ids(text, grow=False)
        if not query_ids.size:
            return np.zeros(len(rows))
        chosen = self.frequencies()[rows]
        size = chosen.shape[1]
        df = np.bincount(chosen.indices, minlength=size)
        idf = np.log((1 + len(rows)) / (1 + df)) + 1.0
        weights = chosen.data * idf[chosen.indices]
        row_of = np.repeat(np.arange(len(rows)), np.diff(chosen.indptr))
        norms = np.sqrt(np.bincount(row_of, weights=weights ** 2, minlength=len(rows)))
        query = np.zeros(size)
        query[query_ids] = query_tf * idf[query_ids]
        dots = np.bincount(row_of, weights=weights * query[chosen.indices], minlength=len(rows))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nan_to_num(dots / (norms * np.linalg.norm(query)))


_index = Index()


def _load(session: Session, versions: dict[int, int]) -> None:
    """Bring the index up to date for these ideas (id -> version of their text): those it
    lacks, and those whose text changed since it read them."""
    stale = [k for k, version in versions.items() if _index.stamps.get(k) != version]
    for start in range(0, len(stale), 1000):
        rows = session.execute(select(Idea.id, Idea.text_version, Idea.title, Idea.description, Idea.meaning)
                               .where(Idea.id.in_(stale[start:start + 1000]))).all()
        unknown = [r for r in rows if r.meaning is None]
        computed = embeddings.embed([idea_text(r.title, r.description) for r in unknown]) if unknown else None
        fresh = {r.id: computed[n] for n, r in enumerate(unknown)} if computed is not None else {}
        with _index.lock:
            for r in rows:
                meaning = fresh[r.id] if r.id in fresh else np.frombuffer(r.meaning, dtype=np.float32)
                _index.put(r.id, r.text_version, meaning, idea_text(r.title, r.description))


def similar_ideas(session: Session, *, text: str, candidates: Select, limit: int = 5,
                  threshold: float = THRESHOLD, meaning_share: float = MEANING_SHARE) -> list[tuple[int, float]]:
    """(idea id, similarity) of the ideas most similar to ``text`` among ``candidates`` (a
    select of ideas' ids and text versions, already filtered by who may read them), most
    similar first, above ``threshold``."""
    versions: dict[int, int] = {i: v for i, v in session.execute(candidates)}
    if not versions or not text.strip():
        return []
    _load(session, versions)
    keys = list(versions)
    scores = _index.similarities(keys, text, meaning_share)
    order = np.argsort(-scores, kind="stable")[:limit]
    return [(keys[i], float(scores[i])) for i in order if scores[i] >= threshold]


def evaluate(titles: list[str], topics: list[str], *, held_out: int = 500, k: int = 5, seed: int = 0,
             meaning_shares: tuple[float, ...] = (0.0, MEANING_SHARE)) -> dict[float, float]:
    """Projects as ideas: for ``held_out`` projects drawn at random, the share of the ``k``
    most similar other projects (by title) that answer the same call topic, for each share
    of meaning (0: TF-IDF alone)."""
    index = Index()
    meanings = embeddings.embed(titles)
    for n, title in enumerate(titles):
        index.put(n, None, meanings[n], title)
    keys = list(range(len(titles)))
    queries = np.random.default_rng(seed).choice(len(titles), size=min(held_out, len(titles)), replace=False)
    topic = np.asarray(topics)
    out = {}
    for share in meaning_shares:
        hits = 0
        for q in queries.tolist():
            scores = index.similarities(keys, titles[q], share)
            scores[q] = -np.inf  # the held-out project is not among the candidates
            top = np.argsort(-scores, kind="stable")[:k]
            hits += int((topic[top] == topic[q]).sum())
        out[share] = hits / (k * len(queries))
    return out
