"""The collaboration history the partner finder learns from: who took part in which
project, when, with what words. Built the same way from the shared CORDIS files (for the
validation protocols) and from the database (for live recommendations).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp

from innonet.analytics import embeddings, linkpred, words
from innonet.organisations.models import KINDS

KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
# A participation as the history reads it: org, project (any keys), coordinator, year, kind
# (a code of KIND_CODES) and country.
ParticipationRow: TypeAlias = dict[str, Any]
# The words of a need: its TF-IDF vector over the history's terms, one sparse row.
NeedWords: TypeAlias = sp.csr_matrix
# How fast an old project stops counting as a sign of a live tie: half per year.
RECENCY_HALF_LIFE_YEARS = 1.0


@dataclass
class History:
    """Organisations 0…n−1 and projects 0…m−1 with the participations between them.

    ``members`` is the organisations × projects 0/1 matrix, ``coordinators`` the same for
    coordinators only; ``project_years`` and ``project_texts`` describe each project;
    ``kinds`` (codes of organisations.KINDS) and ``countries`` (any code, "" if unknown) each
    organisation. ``extra_texts`` are words an organisation wrote about itself (profile,
    capabilities), added to its project words.
    """

    members: sp.csr_matrix
    coordinators: sp.csr_matrix
    project_years: np.ndarray
    project_texts: list[str]
    kinds: np.ndarray
    countries: np.ndarray
    extra_texts: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        B = self.members
        self.n, self.m = B.shape
        self.last_year = int(self.project_years.max()) if self.m else 0
        W = (B @ B.T).tocsr()
        W.setdiag(0)
        W.eliminate_zeros()
        self.shared = W  # shared projects between two organisations
        A = W.copy()
        A.data[:] = 1.0
        self.adjacency = A
        self.degree = np.asarray(A.sum(axis=1)).ravel()
        self.projects = np.asarray(B.sum(axis=1)).ravel()
        self.projects_last_year = self._count(self.project_years == self.last_year)
        self.projects_year_before = self._count(self.project_years == self.last_year - 1)
        self.coordinated = np.asarray(self.coordinators.sum(axis=1)).ravel()
        first_year = np.full(self.n, float(self.last_year))
        active = np.diff(B.indptr) > 0
        first_year[active] = np.minimum.reduceat(self.project_years[B.indices],
                                                 B.indptr[:-1][active])
        self.years_active = self.last_year - first_year
        self.project_sizes = np.asarray(B.sum(axis=0)).ravel()
        self.recency = 0.5 ** ((self.last_year - self.project_years) / RECENCY_HALF_LIFE_YEARS)
        inverse_log_degree = np.zeros(self.n)
        inverse_log_degree[self.degree > 1] = 1 / np.log(self.degree[self.degree > 1])
        self.inverse_log_degree = inverse_log_degree
        # One random step organisation → project (newer projects likelier) → organisation.
        weighted = B @ sp.diags(self.recency)
        to_project = sp.diags(1 / np.maximum(np.asarray(weighted.sum(axis=1)).ravel(), 1e-12)) @ weighted
        to_member = sp.diags(1 / np.maximum(self.project_sizes, 1)) @ B.T
        self.recent_step = (to_project @ to_member).tocsr()
        self._walk: np.ndarray | None = None  # made on first use
        self._words: np.ndarray | None = None
        self._fit_words()
        self._fit_meanings()

    def _count(self, projects_mask: np.ndarray) -> np.ndarray:
        return np.asarray(self.members[:, projects_mask].sum(axis=1)).ravel()

    def _fit_words(self) -> None:
        """TF-IDF of the project texts' terms (:mod:`innonet.analytics.words`; sublinear tf,
        min_df 2); an organisation's profile is the L2-normalised sum of its projects'
        vectors plus its own words. A history whose texts share no term has an empty
        vocabulary."""
        # Projects without words count as documents too: that is how the reference
        # method of the need-based protocol weighs words.
        analysed = [words.terms_and_forms(text)
                    for text in self.project_texts + list(self.extra_texts.values())]
        self.forms = words.Forms(analysed)
        documents = [[term for term, _ in text] for text in analysed]
        self.tfidf: words.TfIdf | None = words.TfIdf(documents, min_texts=2)
        if not self.tfidf.terms.size:  # no term in two texts, or no text at all
            self.tfidf = None
            self.project_vectors = sp.csr_matrix((self.m, 1))
            self.profiles = sp.csr_matrix((self.n, 1))
            return
        self.project_vectors = self.tfidf.transform(documents[:self.m])
        profiles = self.members @ self.project_vectors
        if self.extra_texts:
            rows = np.fromiter(self.extra_texts, dtype=np.int64)
            own = self.tfidf.transform(documents[self.m:])
            profiles = profiles + sp.csr_matrix(
                (np.ones(rows.size), (rows, np.arange(rows.size))), shape=(self.n, rows.size)) @ own
        self.profiles = words.unit_rows(profiles)

    def _fit_meanings(self) -> None:
        """Word embeddings of each project and, like the TF-IDF profile, of each
        organisation: the normalised sum of its projects' plus its own words'."""
        self.project_meanings = embeddings.embed(self.project_texts)
        meanings = self.members @ self.project_meanings
        if self.extra_texts:
            rows = np.fromiter(self.extra_texts, dtype=np.int64)
            meanings[rows] += embeddings.embed(list(self.extra_texts.values()))
        length = np.linalg.norm(meanings, axis=1, keepdims=True)
        # Single precision, like the projects': half the memory, and a need is compared
        # with every profile in each request.
        self.profile_meanings = (meanings / np.where(length > 0, length, 1)).astype(np.float32)

    def partners(self, q: int) -> np.ndarray:
        A = self.adjacency
        return A.indices[A.indptr[q]:A.indptr[q + 1]]

    def text_vector(self, text: str | None) -> NeedWords | None:
        """The normalised TF-IDF vector of a text; None when no word of it is known."""
        if text and text.strip() and self.tfidf is not None:
            vector = self.tfidf.transform([words.terms(text)])
            if vector.nnz:
                return vector
        return None

    def need_vector(self, text: str | None, q: int) -> NeedWords:
        """The words of a need; without any, the asking organisation's own profile."""
        vector = self.text_vector(text)
        return self.profiles[q] if vector is None else vector

    def need_meaning(self, text: str | None, q: int) -> np.ndarray:
        """The embedding of a need; without words, the asking organisation's profile."""
        meaning = embeddings.embed([text or ""])[0]
        return self.profile_meanings[q] if not meaning.any() else meaning

    def words_near(self, meaning: np.ndarray, count: int = 5, projects: int = 20) -> list[str]:
        """Single words the data holds, close in meaning to ``meaning``: the strongest of the
        projects nearest to it."""
        if self.tfidf is None or not meaning.any() or not self.m:
            return []
        nearest = np.argsort(-(self.project_meanings @ meaning), kind="stable")[:projects]
        weight = np.asarray(self.project_vectors[nearest].sum(axis=0)).ravel()
        names = self.words()
        single = [t for t in np.argsort(-weight, kind="stable")
                  if weight[t] > 0 and " " not in names[t]]
        return [str(names[t]) for t in single[:count]]

    def walks(self, queries: list[int], iterations: int = 20) -> np.ndarray:
        """Personalised PageRank from each query (one column each), in single precision:
        a request waits for it, and the ranker needs its order, not its last digits."""
        if self._walk is None:
            self._walk = linkpred.transition_matrix(self.adjacency).astype(np.float32)
        return linkpred.personalised_pagerank(self.adjacency, queries, iterations=iterations,
                                              walk=self._walk)

    def words(self) -> np.ndarray:
        """The vocabulary, by index, each term in the form the texts use most (empty
        without one)."""
        if self._words is None:
            terms = self.tfidf.terms if self.tfidf is not None else np.array([], dtype=object)
            self._words = np.array([self.forms[str(t)] for t in terms], dtype=object)
        return self._words


def build_history(participations: Iterable[tuple[int, int, bool]], *, project_years: Sequence[float] | np.ndarray,
                  project_texts: Iterable[str], kinds: Sequence[int] | np.ndarray,
                  countries: Sequence[str] | np.ndarray, extra_texts: dict[int, str] | None = None) -> History:
    """A History from (organisation, project, is coordinator) index triples."""
    organisation = np.fromiter((p[0] for p in participations), dtype=np.int64)
    project = np.fromiter((p[1] for p in participations), dtype=np.int64)
    coordinator = np.fromiter((p[2] for p in participations), dtype=bool)
    shape = (len(kinds), len(project_years))
    members = sp.csr_matrix((np.ones(organisation.size), (organisation, project)), shape=shape)
    members.data[:] = 1.0  # an organisation listed twice in a project counts once
    coordinators = sp.csr_matrix((coordinator.astype(float), (organisation, project)), shape=shape)
    coordinators.eliminate_zeros()
    coordinators.data[:] = 1.0
    return History(members, coordinators, np.asarray(project_years, dtype=float),
                   list(project_texts), np.asarray(kinds), np.asarray(countries),
                   dict(extra_texts or {}))


def history_until(rows: list[ParticipationRow], texts: dict, year: int, extra_texts: dict | None = None,
                  organisations: dict | None = None) -> tuple[History, list]:
    """The History of the projects starting up to ``year``, and its organisation keys.

    ``rows`` are participations as dicts with ``org``, ``project`` (any keys), ``coordinator``,
    ``year``, ``kind`` (a code of KIND_CODES) and ``country``; ``texts`` maps a project key
    to its words; ``extra_texts`` an organisation key to its own words; ``organisations``
    an organisation key to its (kind code, country), which also brings in organisations
    without a project yet. Organisations are numbered in key order.
    """
    past = [r for r in rows if r["year"] <= year]
    keys = sorted({r["org"] for r in past} | set(organisations or ()))
    index = {key: i for i, key in enumerate(keys)}
    projects = sorted({r["project"] for r in past})
    project_index = {key: i for i, key in enumerate(projects)}
    years = np.zeros(len(projects))
    kinds = np.zeros(len(keys), dtype=np.int64)
    countries = np.full(len(keys), "", dtype=object)
    for r in past:
        years[project_index[r["project"]]] = r["year"]
        kinds[index[r["org"]]] = r["kind"]
        countries[index[r["org"]]] = r["country"] or ""
    for key, (kind, country) in (organisations or {}).items():
        kinds[index[key]], countries[index[key]] = kind, country or ""
    history = build_history(
        [(index[r["org"]], project_index[r["project"]], r["coordinator"]) for r in past],
        project_years=years, project_texts=[texts.get(p, "") for p in projects],
        kinds=kinds, countries=countries,
        extra_texts={index[k]: t for k, t in (extra_texts or {}).items() if k in index and t})
    return history, keys
