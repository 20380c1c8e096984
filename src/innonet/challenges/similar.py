"""Similar ideas while an author types: the ideas closest to the text in meaning (word
embeddings) and in words (TF-IDF), among the ideas the author may read and no others.

The candidates come from the database with the access rule (service.idea_condition); the
words' weights (inverse document frequencies) are computed over those candidates only, so
an idea the author may not read changes nothing in what they are shown. Each process
keeps every idea's vector and terms, by its last change, so that a keystroke costs one
query and some arithmetic (benchmarks/bench_ideas.py).
"""

import threading
from datetime import datetime

import numpy as np
from sqlalchemy import select
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


class _Cache:
    """Idea id -> (last change, meaning, term ids, term weights) for this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[int, tuple[datetime, np.ndarray, np.ndarray, np.ndarray]] = {}
        self.vocabulary: dict[str, int] = {}

    def term_ids(self, terms: list[str], *, grow: bool) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the distinct terms and their sublinear term frequencies."""
        counts: dict[str, int] = {}
        for term in terms:
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

    def load(self, session: Session, stamps: dict[int, datetime]) -> None:
        stale = [i for i, at in stamps.items() if (e := self.entries.get(i)) is None or e[0] != at]
        for start in range(0, len(stale), 1000):
            rows = session.execute(select(Idea.id, Idea.updated_at, Idea.title, Idea.description,
                                          Idea.meaning).where(Idea.id.in_(stale[start:start + 1000]))).all()
            unknown = [r for r in rows if r.meaning is None]
            computed = embeddings.embed([idea_text(r.title, r.description) for r in unknown]) \
                if unknown else np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
            fresh = {r.id: computed[n] for n, r in enumerate(unknown)}
            with self.lock:
                for r in rows:
                    meaning = fresh[r.id] if r.id in fresh else np.frombuffer(r.meaning, dtype=np.float32)
                    self.add(r.id, r.updated_at, meaning, idea_text(r.title, r.description))

    def add(self, key: int, stamp, meaning: np.ndarray, text: str) -> None:
        ids, tf = self.term_ids(words.terms(text), grow=True)
        self.entries[key] = (stamp, meaning, ids, tf)


_cache = _Cache()


def similar_ideas(session: Session, *, text: str, candidates, limit: int = 5,
                  threshold: float = THRESHOLD, meaning_share: float = MEANING_SHARE) -> list[tuple[int, float]]:
    """(idea id, similarity) of the ideas most similar to ``text`` among ``candidates`` (a
    select of idea ids and their last change, already filtered by who may read them),
    most similar first, above ``threshold``."""
    stamps = dict(session.execute(candidates).all())
    if not stamps or not text.strip():
        return []
    _cache.load(session, stamps)
    ids = np.fromiter(stamps, dtype=np.int64, count=len(stamps))
    entries = [_cache.entries[i] for i in ids.tolist()]
    scores = similarities(_cache, entries, np.stack([e[1] for e in entries]), text, meaning_share)
    order = np.argsort(-scores, kind="stable")[:limit]
    return [(int(ids[i]), float(scores[i])) for i in order if scores[i] >= threshold]


def similarities(cache: _Cache, entries: list, meanings: np.ndarray, text: str,
                 meaning_share: float) -> np.ndarray:
    """The similarity of ``text`` to each entry: a blend of the cosine of the meanings and
    the cosine of the words' TF-IDF vectors."""
    scores = np.zeros(len(entries))
    if meaning_share > 0:
        scores += meaning_share * (meanings @ embeddings.embed([text])[0]).astype(np.float64)
    return scores + (1 - meaning_share) * _word_similarity(cache, entries, text)


def _word_similarity(cache: _Cache, entries: list, text: str) -> np.ndarray:
    """Cosine of TF-IDF vectors (sublinear tf, smooth idf) with the idf of these entries."""
    query_ids, query_tf = cache.term_ids(words.terms(text), grow=False)
    if not query_ids.size:
        return np.zeros(len(entries))
    lengths = np.fromiter((e[2].size for e in entries), dtype=np.int64, count=len(entries))
    term_ids = np.concatenate([e[2] for e in entries]) if lengths.sum() else np.zeros(0, np.int64)
    tf = np.concatenate([e[3] for e in entries]) if lengths.sum() else np.zeros(0)
    rows = np.repeat(np.arange(len(entries)), lengths)
    size = max(len(cache.vocabulary), int(query_ids.max()) + 1)
    df = np.bincount(term_ids, minlength=size)
    idf = np.log((1 + len(entries)) / (1 + df)) + 1.0
    weights = tf * idf[term_ids]
    norms = np.sqrt(np.bincount(rows, weights=weights ** 2, minlength=len(entries)))
    query = np.zeros(size)
    query[query_ids] = query_tf * idf[query_ids]
    dots = np.bincount(rows, weights=weights * query[term_ids], minlength=len(entries))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(dots / (norms * np.linalg.norm(query)))


def evaluate(titles: list[str], topics: list[str], *, held_out: int = 500, k: int = 5, seed: int = 0,
             meaning_shares: tuple[float, ...] = (0.0, MEANING_SHARE)) -> dict[float, float]:
    """Projects as ideas: for ``held_out`` projects drawn at random, the share of the ``k``
    most similar other projects (by title) that answer the same call topic, for each share
    of meaning (0: TF-IDF alone)."""
    cache = _Cache()
    meanings = embeddings.embed(titles)
    for n, title in enumerate(titles):
        cache.add(n, None, meanings[n], title)
    entries = [cache.entries[n] for n in range(len(titles))]
    queries = np.random.default_rng(seed).choice(len(titles), size=min(held_out, len(titles)), replace=False)
    topic = np.asarray(topics)
    out = {}
    for share in meaning_shares:
        hits = 0
        for q in queries.tolist():
            scores = similarities(cache, entries, meanings, titles[q], share)
            scores[q] = -np.inf  # the held-out project is not among the candidates
            top = np.argsort(-scores, kind="stable")[:k]
            hits += int((topic[top] == topic[q]).sum())
        out[share] = hits / (k * len(queries))
    return out
