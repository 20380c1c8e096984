"""The collaboration graph as the viewer may see it, analysed once and cached.

Organisations are linked by the projects they share (public data) and by the relationships
the viewer may see (:func:`innonet.sharing.policy.visible_condition`; for a cluster
manager's whole-network report, :func:`~innonet.sharing.policy.analytics_condition`). An
analysis is cached under the network's data version, the time window and the exact set of
relationships it used, so a change to the data or to what the viewer may see gives a fresh
one, and viewers who see the same relationships share it.
"""

import hashlib
import io
import json
import pickle
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple

import igraph as ig
import numpy as np
import scipy.sparse as sp
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from innonet import analytics
from innonet.collaborations.models import (
    INVERSE_KINDS,
    Participation,
    Project,
    Relationship,
)
from innonet.db import end_read, rows_changed, transaction, utcnow
from innonet.errors import Forbidden, InnonetError, InvalidInput, Pending, Problem
from innonet.jobs.models import Job
from innonet.jobs.queue import queue_of, web_queue
from innonet.jobs.service import JobContext, files_dir, job_kind, tidy_step
from innonet.network.models import StoredAnalysis
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing
from innonet.text import strip_control_characters
from innonet.versions import NetworkChange, data_version

# A relationship of default strength (3) weighs as much as one shared project.
RELATIONSHIP_WEIGHT_PER_STRENGTH = 1 / 3
CACHE_SIZE = 4
OWN_CACHE_SIZE = 8
MAX_LINKS_PER_NODE = 5
EXPORT_FORMATS = ("gexf", "graphml")
ANALYSIS_JOB = "network.analysis"
EXPORT_JOB = "network.export"


@dataclass
class Analysis:
    """A graph, every organisation's measures and (computed on first use) the report.

    The shared analysis holds public data and public relationships. A viewer who may see
    other relationships gets it with them added (``base`` is then the shared one): their
    links, and the measures of each organisation's own neighbourhood (partners, strength,
    clustering, brokerage) exact for the organisations party to them and for the one a
    diagnosis is about; network-wide measures (PageRank, eigenvector, betweenness, closeness,
    communities, cores) stay those of the shared analysis.
    """

    graph: ig.Graph
    metrics: dict[str, np.ndarray]
    organisation_ids: np.ndarray
    vertex_of: dict[int, int]
    this_year: int
    # The relationships it includes (all public, unless ``base`` is set).
    relationship_ids: frozenset[int] = frozenset()
    computed_at: datetime = field(default_factory=utcnow)
    # False for an earlier analysis shown while the one for the newest data is computed.
    up_to_date: bool = True
    base: "Analysis | None" = field(default=None, repr=False)
    # How many relationships that are not public it includes, and their links: added to
    # ``graph`` (the shared one, never copied for a viewer) by :meth:`subgraph`.
    private_relationships: int = 0
    added: "_AddedLinks | None" = field(default=None, repr=False)
    _partner_kinds: dict | None = field(default=None, repr=False)
    _report: dict | None = field(default=None, repr=False)
    _weights: sp.csr_matrix | None = field(default=None, repr=False)
    _adjacency: sp.csr_matrix | None = field(default=None, repr=False)
    _leaders: dict[int, str] | None = field(default=None, repr=False)
    _data_until: int | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def weights(self) -> sp.csr_matrix:
        """The graph's weighted adjacency matrix, both directions (made on first use)."""
        with self._lock:
            if self._weights is None:
                self._weights = analytics.weighted_adjacency(self.graph)
            return self._weights

    def adjacency(self) -> sp.csr_matrix:
        """The graph's 0/1 adjacency matrix, both directions (made on first use)."""
        weights = self.weights()
        with self._lock:
            if self._adjacency is None:
                self._adjacency = sp.csr_matrix(
                    (np.ones(weights.nnz), weights.indices, weights.indptr), shape=weights.shape)
            return self._adjacency

    def partner_kinds(self) -> dict[tuple[int, int], list[str]]:
        """(v, partner) to what v's relationships say the partner is."""
        return self.graph["partner_kinds"] if self._partner_kinds is None else self._partner_kinds

    def subgraph(self, vertices: list[int]) -> ig.Graph:
        """The graph among these vertices (ascending; vertex i of the result is
        ``vertices[i]``), with the links of the relationships added for the viewer and the
        partner kinds of its own vertices."""
        sub = self.graph.induced_subgraph(vertices)
        local = {v: i for i, v in enumerate(vertices)}
        sub["partner_kinds"] = {(local[a], local[b]): kinds for (a, b), kinds
                                in self.partner_kinds().items() if a in local and b in local}
        if self.added is not None:
            self.added.add_to(sub, local)
        return sub

    @property
    def report(self) -> dict:
        if self.base is not None:
            shared = self.base.report
        with self._lock:
            if self._report is None:
                self._report = (analytics.network_report(self.graph, self.metrics)
                                if self.base is None else
                                analytics.resized_report(shared, self.metrics))
            return self._report

    def metrics_of(self, vertex: int) -> dict[str, np.ndarray]:
        """Every measure, those of ``vertex``'s own neighbourhood exact for this graph."""
        if self.base is None:
            return self.metrics
        metrics = dict(self.metrics)
        for name, values in analytics.local_measures(self.weights(), [vertex]).items():
            metrics[name] = metrics[name].copy()
            metrics[name][vertex] = values[0]
        return metrics

    def data_until(self) -> int | None:
        """The last year in which a tie of the graph began (None: no dated tie); made on
        first use, the same for a viewer's analysis as for the shared one."""
        if self.base is not None:
            return self.base.data_until()
        with self._lock:
            if self._data_until is None:
                dated = ("first_year" in self.graph.es.attributes()
                         and [y for y in self.graph.es["first_year"] if y is not None])
                self._data_until = max(dated) if dated else -1
            return None if self._data_until < 0 else self._data_until

    def community_leaders(self) -> dict[int, str]:
        """Each community's name: its member with the highest PageRank (made on first use;
        the same for a viewer's analysis as for the shared one)."""
        if self.base is not None:
            return self.base.community_leaders()
        with self._lock:
            if self._leaders is None:
                membership, rank = self.metrics["community"], self.metrics["pagerank"]
                order = np.lexsort((-rank, membership))
                communities, first = np.unique(membership[order], return_index=True)
                names = self.graph.vs["name"]
                self._leaders = {int(c): names[int(order[i])] for c, i in zip(communities, first)}
            return self._leaders


# Shared analyses (about 90 MB each on the 27,411-organisation network) and, apart, the
# viewers' own (a graph copy each, about 30 MB), so that viewers never push out the shared one.
_cache: OrderedDict = OrderedDict()
_own: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
# Stored analyses a thread of this process is unpacking: (database, key).
_unpacking: set[tuple[str, str]] = set()
# Stored analyses kept per window (older ones are deleted by the job that adds a new one).
STORED_PER_WINDOW = 4
# How long a page waits for a first analysis before it says "being prepared" instead, and
# how many requests of a process may wait at once: the others say it at once, so that
# waiting requests never take the threads that every other page needs.
FIRST_ANALYSIS_WAIT = 10.0
_waiting = threading.BoundedSemaphore(4)


class RelationshipRow(NamedTuple):
    id: int
    organisation_id: int
    partner_id: int
    kind: str
    strength: int
    start_date: date | None
    end_date: date | None

    def as_list(self) -> list:
        return [*self[:5], _iso(self.start_date), _iso(self.end_date)]

    @classmethod
    def from_list(cls, row: list) -> "RelationshipRow":
        return cls(*row[:5], *(date.fromisoformat(d) if d else None for d in row[5:]))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _window(since: int | None, until: int | None):
    if since is not None and until is not None and since > until:
        raise InvalidInput("since: must not be after 'until'.",
                           [Problem("must not be after 'until'", field="since")])
    conditions = []
    if since is not None:
        conditions.append(Project.start_date >= date(since, 1, 1))
    if until is not None:
        conditions.append(Project.start_date <= date(until, 12, 31))
    return conditions


def _visible_relationships(session: Session, viewer: Viewer, *, for_aggregates: bool,
                           since: int | None, until: int | None
                           ) -> tuple[list[RelationshipRow], list[RelationshipRow]]:
    """(the public relationships, the others this viewer may see or count) of the window."""
    condition = (policy.analytics_condition if for_aggregates
                 else policy.visible_condition)(viewer, Relationship)
    query = select(Relationship.id, Relationship.organisation_id, Relationship.partner_id,
                   Relationship.kind, Relationship.strength, Relationship.start_date,
                   Relationship.end_date, Relationship.visibility == "public") \
        .where(condition).order_by(Relationship.id)
    public: list[RelationshipRow] = []
    others: list[RelationshipRow] = []
    for row in session.execute(query):
        r = RelationshipRow._make(row[:7])
        if ((since is None or r.end_date is None or r.end_date.year >= since)
                and (until is None or r.start_date is None or r.start_date.year <= until)):
            (public if row[7] else others).append(r)
    return public, others


@dataclass(frozen=True)
class AnalysisSpec:
    """What a shared analysis is computed from, besides the public data: the window, the
    year it is computed in, and the public relationships."""

    since: int | None
    until: int | None
    this_year: int
    relationships: tuple[RelationshipRow, ...]

    def relationships_json(self) -> str:
        return json.dumps([r.as_list() for r in self.relationships])

    def key(self, version: int) -> str:
        text = f"{version}|{self.since}|{self.until}|{self.this_year}|{self.relationships_json()}"
        return hashlib.sha256(text.encode()).hexdigest()

    def params(self) -> dict:
        return {"since": self.since, "until": self.until, "this_year": self.this_year,
                "relationships": [r.as_list() for r in self.relationships]}

    @classmethod
    def from_params(cls, params: dict) -> "AnalysisSpec":
        return cls(params["since"], params["until"], params["this_year"],
                   tuple(RelationshipRow.from_list(r) for r in params["relationships"]))

    def dedupe_key(self) -> str:
        # One job at a time per window: while it runs, new public data starts no other
        # (each would analyse the whole network again); the next request after it does.
        return f"analysis:{self.since}:{self.until}:{self.this_year}"


def analysis(session: Session, viewer: Viewer, *, since: int | None = None,
             until: int | None = None, for_aggregates: bool = False,
             organisation_id: int | None = None) -> Analysis:
    """The analysed graph for this viewer and time window (years of project start): the
    shared analysis with the other relationships the viewer may see (or, with
    ``for_aggregates``, count) added.

    In the web app a background job computes the shared analysis: until it is done, the
    newest earlier one the viewer may see is given (``up_to_date`` False), or, when there is
    none (or it lacks ``organisation_id``, added since), the request waits a little and then
    raises :class:`Pending`. Elsewhere (commands, jobs) it is computed here.
    """
    window = _window(since, until)
    public, others = _visible_relationships(session, viewer, for_aggregates=for_aggregates,
                                            since=since, until=until)
    spec = AnalysisSpec(since, until, viewer.today.year, tuple(public))
    shared = _shared_analysis(session, window, spec, seen=[*public, *others],
                              organisation_id=organisation_id)
    # An earlier analysis may hold relationships that were public then and are not now.
    return _with_relationships(shared, [r for r in others if r.id not in shared.relationship_ids])


def _shared_analysis(session: Session, window, spec: AnalysisSpec, *,
                     seen: list[RelationshipRow], organisation_id: int | None) -> Analysis:
    key = spec.key(data_version(session))
    database = str(session.get_bind().engine.url)
    with _cache_lock:
        if (database, key) in _cache:
            _cache.move_to_end((database, key))
            return _cache[(database, key)]
    queue = queue_of(session)
    if queue is None:
        built = _build(session, window, spec.relationships, this_year=spec.this_year)
        return _remember(database, key, built)
    stored = session.get(StoredAnalysis, key)
    if stored is not None:
        # Unpacking takes a second of the request's process: while another thread does it,
        # an earlier analysis this process holds answers (saying "as of").
        held = _newest_allowed(session, spec, seen, in_memory_of=database)
        if held is not None and held.key != key:
            shown = _loaded(database, held, earlier=True)
            if organisation_id is None or organisation_id in shown.vertex_of:
                _unpack_in_background(queue.sessions, database, key)
                return shown
        return _loaded(database, stored)
    end_read(session)  # no connection held while the job is handed over and awaited
    job = queue.submit(ANALYSIS_JOB, spec.params(), dedupe_key=spec.dedupe_key())
    # A read of its own: it sees what was saved since this request began.
    with transaction(queue.sessions, writes=False) as fresh:
        if (stored := _latest_done(fresh, job.id)) is not None and stored.key == key:
            return _loaded(database, stored)
        if (stored := _newest_allowed(fresh, spec, seen)) is not None:
            earlier = _loaded(database, stored, earlier=True)
            if organisation_id is None or organisation_id in earlier.vertex_of:
                return earlier
    return _wait_for(queue, job.id, database, spec, seen)


def _with_relationships(shared: Analysis, relationships: list[RelationshipRow]) -> Analysis:
    """The shared analysis with these relationships added (see :class:`Analysis`); made once
    per process for the same analysis and relationships."""
    # Organisations added since the shared analysis was computed join when the next is.
    relationships = [r for r in relationships
                     if r.organisation_id in shared.vertex_of and r.partner_id in shared.vertex_of]
    if not relationships:
        return shared
    # The entry holds the shared analysis, so its id() is not reused while the entry lives.
    key = (id(shared), tuple(relationships))
    with _cache_lock:
        if key in _own:
            _own.move_to_end(key)
            return _own[key]
    n = shared.graph.vcount()
    ties = _relationship_ties(relationships, shared.vertex_of, n)
    pairs, inverse = np.unique(np.array(ties.keys, dtype=np.int64), return_inverse=True)
    first, last = _added_years(inverse, ties, pairs.size)
    added = _AddedLinks(pairs // n, pairs % n, np.bincount(inverse, ties.weights, minlength=pairs.size),
                        first, last)
    kinds = {pair: list(values) for pair, values in shared.partner_kinds().items()}
    for pair, values in ties.partner_kinds.items():
        kinds.setdefault(pair, []).extend(values)
    a, b = added.a, added.b
    change = sp.csr_matrix((np.concatenate([added.weight, added.weight]),
                            (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    weights = shared.weights() + change
    parties = np.unique(np.concatenate([a, b]))
    metrics = dict(shared.metrics)
    for name, values in analytics.local_measures(weights, parties).items():
        metrics[name] = metrics[name].copy()
        metrics[name][parties] = values
    built = replace(shared, metrics=metrics, base=shared, added=added, _partner_kinds=kinds,
                    relationship_ids=shared.relationship_ids | {r.id for r in relationships},
                    private_relationships=len(relationships), _report=None,
                    _weights=weights, _adjacency=None, _lock=threading.Lock())
    with _cache_lock:
        _own[key] = built
        while len(_own) > OWN_CACHE_SIZE:
            _own.popitem(last=False)
    return built


@dataclass(frozen=True)
class _AddedLinks:
    """The links of a viewer's relationships (a < b, one per pair): weight to add, and the
    earliest start and latest end of those relationships (-1: unknown; for the end, ongoing)."""

    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def add_to(self, graph: ig.Graph, local: dict[int, int]) -> None:
        """Add those between vertices of ``graph`` (``local``: its vertex of each one)."""
        inside = [i for i, (a, b) in enumerate(zip(self.a.tolist(), self.b.tolist()))
                  if a in local and b in local]
        pairs = [(local[int(self.a[i])], local[int(self.b[i])]) for i in inside]
        edges = graph.get_eids(pairs, error=False)
        new = []
        for i, pair, e in zip(inside, pairs, edges, strict=True):
            since, until = int(self.first[i]), int(self.last[i])
            if e < 0:
                new.append((pair, i))
                continue
            edge = graph.es[e]
            edge["weight"] += float(self.weight[i])
            if since >= 0:
                edge["first_year"] = since if edge["first_year"] is None else min(edge["first_year"], since)
            if edge["last_year"] is not None:
                edge["last_year"] = None if until < 0 else max(edge["last_year"], until)
        graph.add_edges([pair for pair, _ in new], attributes={
            "weight": [float(self.weight[i]) for _, i in new], "projects": [0] * len(new),
            "first_year": [int(self.first[i]) if self.first[i] >= 0 else None for _, i in new],
            "last_year": [int(self.last[i]) if self.last[i] >= 0 else None for _, i in new]})


def _added_years(inverse: np.ndarray, ties: "_Ties", count: int) -> tuple[np.ndarray, np.ndarray]:
    """For each added pair, its relationships' earliest start and latest end (-1: unknown,
    or for the end, ongoing)."""
    first, last = np.full(count, -1), np.full(count, -2)
    for pair, since, until in zip(inverse.tolist(), ties.first, ties.last):
        if since >= 0:
            first[pair] = since if first[pair] < 0 else min(first[pair], since)
        last[pair] = -1 if until < 0 or last[pair] == -1 else max(last[pair], until)
    return first, last


def _loaded(database: str, stored: StoredAnalysis, *, earlier: bool = False) -> Analysis:
    """A stored analysis, unpacked once per process (its payload, megabytes, is read from
    the database only then). ``earlier``: shown while a newer one is computed."""
    key = f"earlier:{stored.key}" if earlier else stored.key
    with _cache_lock:
        if (database, key) in _cache:
            _cache.move_to_end((database, key))
            return _cache[(database, key)]
        # The analysis that was up to date a moment ago is in memory already.
        built = _cache.get((database, stored.key))
    if built is None:
        built = _unpack(stored)
    return _remember(database, key, replace(built, up_to_date=False) if earlier else built)


def _remember(database: str, key: str, built: Analysis) -> Analysis:
    with _cache_lock:
        _cache[(database, key)] = built
        _cache.move_to_end((database, key))
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def _latest_done(session: Session, job_id: int) -> StoredAnalysis | None:
    job = session.get(Job, job_id)
    if job is None or job.status != "done" or job.result is None:
        return None
    return session.get(StoredAnalysis, json.loads(job.result)["key"])


def _newest_allowed(session: Session, spec: AnalysisSpec, seen: list[RelationshipRow], *,
                    in_memory_of: str | None = None) -> StoredAnalysis | None:
    """The newest stored analysis of this window built only from relationships the viewer
    may see now (so never from one that was public then and is hidden from them now);
    with ``in_memory_of`` (a database), the newest of those this process holds unpacked."""
    visible = {tuple(r.as_list()) for r in seen}
    candidates = [(key, relationships) for key, relationships in session.execute(
        select(StoredAnalysis.key, StoredAnalysis.relationships)
        .where(*_same_window(spec), StoredAnalysis.this_year == spec.this_year)
        .order_by(StoredAnalysis.created_at.desc()).limit(STORED_PER_WINDOW))]
    if in_memory_of is not None:
        with _cache_lock:
            candidates = [(key, relationships) for key, relationships in candidates
                          if (in_memory_of, key) in _cache
                          or (in_memory_of, f"earlier:{key}") in _cache]
    for key, relationships in candidates:
        if {tuple(r) for r in json.loads(relationships)} <= visible:
            return session.get(StoredAnalysis, key)
    return None


def _unpack_once(sessions, database: str, key: str) -> bool:
    """Unpack the stored analysis ``key`` into this process, with its weighted links,
    unless it is there already or another thread is at it; returns whether it did."""
    with _cache_lock:
        if (database, key) in _cache or (database, key) in _unpacking:
            return False
        _unpacking.add((database, key))
    try:
        with transaction(sessions, writes=False) as session:
            stored = session.get(StoredAnalysis, key)
            if stored is None:  # pruned since: a newer one is there
                return False
            loaded = _loaded(database, stored)
        loaded.adjacency()
        return True
    finally:
        with _cache_lock:
            _unpacking.discard((database, key))


def _unpack_in_background(sessions, database: str, key: str) -> None:
    with _cache_lock:
        if (database, key) in _unpacking:
            return
    threading.Thread(target=_unpack_once, args=(sessions, database, key), daemon=True,
                     name="innonet-unpack").start()


def _wait_for(queue, job_id: int, database: str, spec: AnalysisSpec,
              seen: list[RelationshipRow]) -> Analysis:
    pending = Pending("The network analysis is being prepared; this page will show it in a "
                      "moment.", job_id=job_id)
    if not _waiting.acquire(blocking=False):
        raise pending
    try:
        deadline = time.monotonic() + FIRST_ANALYSIS_WAIT
        while time.monotonic() < deadline:
            time.sleep(0.25)
            with transaction(queue.sessions, writes=False) as session:
                job = session.get_one(Job, job_id)
                if job.status == "failed":
                    raise InnonetError(f"The network analysis could not be computed: {job.message}")
                if _latest_done(session, job_id) is not None:
                    # It may have been asked for the public relationships of a moment
                    # before: shown only if it holds nothing this viewer may not see.
                    if (stored := _newest_allowed(session, spec, seen)) is not None:
                        key = spec.key(data_version(session))
                        return _loaded(database, stored, earlier=stored.key != key)
                    break
        raise pending
    finally:
        _waiting.release()


def prepare_public_analysis(queue, today: date) -> None:
    """Have a worker compute the shared analysis of the whole period, so that the first
    pages after a start or an import answer at once."""
    with transaction(queue.sessions, writes=False) as session:
        public, _ = _visible_relationships(session, Viewer(today=today), for_aggregates=False,
                                           since=None, until=None)
        spec = AnalysisSpec(None, None, today.year, tuple(public))
        if session.get(StoredAnalysis, spec.key(data_version(session))) is not None:
            return
    queue.submit(ANALYSIS_JOB, spec.params(), dedupe_key=spec.dedupe_key())


def prefetch(sessions, today: date) -> bool:
    """Load the newest shared analysis of the whole period into this process, with its
    weighted links, once a worker has stored it: the request after would unpack it.
    Returns whether it loaded one."""
    with transaction(sessions, writes=False) as session:
        public, _ = _visible_relationships(session, Viewer(today=today), for_aggregates=False,
                                           since=None, until=None)
        key = AnalysisSpec(None, None, today.year, tuple(public)).key(data_version(session))
        database = str(session.get_bind().engine.url)
    return _unpack_once(sessions, database, key)


@tidy_step("network change rows")
def _forget_old_changes(context: JobContext) -> int:
    """Only the newest network_change row is the data version; the others can go."""
    with transaction(context.sessions) as session:
        newest = session.scalar(select(NetworkChange.id).order_by(NetworkChange.id.desc()).limit(1))
        if newest is None:
            return 0
        return rows_changed(session.execute(delete(NetworkChange).where(NetworkChange.id < newest)))


@job_kind(ANALYSIS_JOB, title="Analyse the network", attempts=3)
def _analysis_job(context: JobContext) -> dict:
    """Compute and store one analysis; what a viewer may see was decided when it was asked."""
    spec = AnalysisSpec.from_params(context.params)
    context.progress(0, 2, "Building the graph and its measures.")
    with transaction(context.sessions, writes=False) as session:
        key = spec.key(data_version(session))
        if session.get(StoredAnalysis, key) is None:
            built = _build(session, _window(spec.since, spec.until), spec.relationships,
                           this_year=spec.this_year)
            built.report  # noqa: B018 - part of what is stored
        else:
            built = None
    if built is not None:
        context.progress(1, 2, "Saving the analysis.")
        payload = pickle.dumps({"graph": built.graph, "metrics": built.metrics,
                                "organisation_ids": built.organisation_ids,
                                "vertex_of": built.vertex_of, "this_year": built.this_year,
                                "report": built.report}, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with transaction(context.sessions) as session:
                if session.get(StoredAnalysis, key) is None:
                    session.add(StoredAnalysis(key=key, since=spec.since, until=spec.until,
                                               this_year=spec.this_year, payload=payload,
                                               relationships=spec.relationships_json()))
                    session.flush()
                    _prune(session, spec)
        except IntegrityError:
            pass  # another job stored the same analysis (the same data and relationships) first
    return {"key": key}


def _prune(session: Session, spec: AnalysisSpec) -> None:
    newest = select(StoredAnalysis.key).where(*_same_window(spec)) \
        .order_by(StoredAnalysis.created_at.desc())
    keep = set(session.scalars(newest.limit(STORED_PER_WINDOW)))
    old = [key for key in session.scalars(newest) if key not in keep]
    if old:
        session.execute(delete(StoredAnalysis).where(StoredAnalysis.key.in_(old)))


def _same_window(spec: AnalysisSpec) -> list:
    return [StoredAnalysis.since.is_(None) if spec.since is None else StoredAnalysis.since == spec.since,
            StoredAnalysis.until.is_(None) if spec.until is None else StoredAnalysis.until == spec.until]


def _unpack(stored: StoredAnalysis) -> Analysis:
    # Written by this application's own job (never by a user): safe to unpickle.
    data = pickle.loads(stored.payload)  # noqa: S301
    return Analysis(data["graph"], data["metrics"], data["organisation_ids"], data["vertex_of"],
                    data["this_year"], computed_at=stored.created_at, _report=data["report"],
                    relationship_ids=frozenset(r[0] for r in json.loads(stored.relationships)))


def _pair_years(project, member, years, n, *, latest):
    """For each pair sharing a dated project, the earliest (or latest) of those years.

    Returns (pair keys ``a * n + b`` with a < b, years), sorted by key.
    """
    sign = -1 if latest else 1
    keys, values = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for year in np.unique(years[years >= 0]):
        s, t, _ = analytics.co_participation_edges(project[years == year],
                                                   member[years == year], n)
        keys.append(s * n + t)
        values.append(np.full(s.size, sign * year, dtype=np.int64))
    keys, values = np.concatenate(keys), np.concatenate(values)
    order = np.lexsort((values, keys))
    unique, first = np.unique(keys[order], return_index=True)
    return unique, sign * values[order][first]


def _build(session: Session, window, relationships, *, this_year: int) -> Analysis:
    orgs = session.execute(
        select(Organisation.id, Organisation.external_id, Organisation.name,
               Organisation.short_name, Organisation.kind, Organisation.country,
               Organisation.is_sme).order_by(Organisation.id)).all()
    n = len(orgs)
    organisation_ids = np.array([o.id for o in orgs], dtype=np.int64)
    vertex_of = {int(o): v for v, o in enumerate(organisation_ids)}
    together = _co_participations(session, window, vertex_of)
    # All is read: the connection goes back before the minute of computing (a job's read
    # held open that long would be ended by the server as idle in its transaction).
    end_read(session)
    sources, targets, shared = analytics.co_participation_edges(together.project, together.member, n)
    ties = _relationship_ties(relationships, vertex_of, n)

    all_keys = np.concatenate([sources * n + targets, np.array(ties.keys, dtype=np.int64)])
    unique, inverse = np.unique(all_keys, return_inverse=True)
    weight = np.bincount(inverse, np.concatenate([shared, ties.weights]), minlength=unique.size)
    projects = np.bincount(inverse, np.concatenate([shared, np.zeros(len(ties.keys))]),
                           minlength=unique.size)
    first, last, ongoing = _tie_years(unique, together, ties, n)
    graph = analytics.collaboration_graph(
        n, unique // n, unique % n, weight=weight,
        vertices={"external_id": [o.external_id for o in orgs],
                  "name": [o.short_name or o.name for o in orgs],
                  "kind": [o.kind for o in orgs], "country": [o.country for o in orgs],
                  "is_sme": [o.is_sme for o in orgs]},
        edges={"projects": projects.astype(np.int64).tolist(),
               "first_year": [None if y == 1 << 30 else int(y) for y in first],
               "last_year": [None if o or y < 0 else int(y) for y, o in zip(last, ongoing)]})
    graph["partner_kinds"] = ties.partner_kinds
    return Analysis(graph, analytics.node_metrics(graph, seed=0), organisation_ids, vertex_of,
                    this_year, relationship_ids=frozenset(r.id for r in relationships))


@dataclass
class _Participations:
    """Who took part in which project of the window (project numbered from 0), and its years."""

    project: np.ndarray
    member: np.ndarray  # vertex
    start: np.ndarray   # year, -1 when unknown
    end: np.ndarray     # year, the start's when unknown


def _co_participations(session: Session, window, vertex_of: dict[int, int]) -> _Participations:
    rows = session.execute(
        select(Participation.project_id, Participation.organisation_id, Project.start_date,
               Project.end_date).join(Project, Project.id == Participation.project_id)
        .where(*window)).all()
    project = np.array([r.project_id for r in rows], dtype=np.int64)
    member = np.array([vertex_of[r.organisation_id] for r in rows], dtype=np.int64)
    start = np.array([r.start_date.year if r.start_date else -1 for r in rows], dtype=np.int64)
    end = np.array([r.end_date.year if r.end_date else s for r, s in zip(rows, start)],
                   dtype=np.int64)
    _, project = np.unique(project, return_inverse=True) if rows else (None, project)
    return _Participations(project, member, start, end)


@dataclass
class _Ties:
    """The relationships the analysis includes, as pairs of vertices (a * n + b, a < b)."""

    partner_kinds: dict[tuple[int, int], list[str]]  # (v, partner): what the partner is to v
    keys: list[int]
    weights: list[float]
    first: list[int]  # year, -1 when unknown
    last: list[int]   # year, -1 when ongoing


def _relationship_ties(relationships, vertex_of: dict[int, int], n: int) -> _Ties:
    ties = _Ties({}, [], [], [], [])
    for r in relationships:
        a, b = vertex_of[r.organisation_id], vertex_of[r.partner_id]
        ties.partner_kinds.setdefault((a, b), []).append(r.kind)
        ties.partner_kinds.setdefault((b, a), []).append(INVERSE_KINDS[r.kind])
        ties.keys.append(min(a, b) * n + max(a, b))
        ties.weights.append(r.strength * RELATIONSHIP_WEIGHT_PER_STRENGTH)
        ties.first.append(r.start_date.year if r.start_date else -1)
        ties.last.append(r.end_date.year if r.end_date else -1)
    return ties


def _tie_years(unique: np.ndarray, together: _Participations, ties: _Ties, n: int):
    """(first, last, ongoing) for each tie: the earliest start of its projects and
    relationships, the latest end; a relationship without an end keeps it open."""
    first = np.full(unique.size, 1 << 30)
    last = np.full(unique.size, -1)
    keys, years = _pair_years(together.project, together.member, together.start, n, latest=False)
    first[np.searchsorted(unique, keys)] = years
    keys, years = _pair_years(together.project, together.member, together.end, n, latest=True)
    last[np.searchsorted(unique, keys)] = years
    ongoing = np.zeros(unique.size, dtype=bool)
    if ties.keys:
        positions = np.searchsorted(unique, np.array(ties.keys, dtype=np.int64))
        for position, since, until in zip(positions.tolist(), ties.first, ties.last):
            if since >= 0:
                first[position] = min(first[position], since)
            if until < 0:
                ongoing[position] = True
            else:
                last[position] = max(last[position], until)
    return first, last, ongoing


def freshness(result: Analysis) -> dict:
    """When the analysis was computed, whether a newer one is on its way, and how many
    relationships that are not public it includes."""
    return {"as_of": result.computed_at, "up_to_date": result.up_to_date,
            "private_relationships": result.private_relationships}


def organisation_metrics(result: Analysis, vertex: int,
                         metrics: dict[str, np.ndarray] | None = None) -> dict:
    """Every measure of one organisation, JSON-ready (NaN becomes None)."""
    metrics = result.metrics if metrics is None else metrics
    row = {"external_id": result.graph.vs[vertex]["external_id"],
           "name": result.graph.vs[vertex]["name"]}
    for name in analytics.METRICS:
        value = metrics[name][vertex].item()
        row[name] = None if isinstance(value, float) and not np.isfinite(value) else value
    return row


def all_organisation_metrics(result: Analysis) -> list[dict]:
    return [organisation_metrics(result, v) for v in range(result.graph.vcount())]


def diagnosis(session: Session, viewer: Viewer, *, external_id: str, since: int | None = None,
              until: int | None = None) -> dict:
    """One organisation's diagnosis as this viewer may see it (NotFound for unknown ids)."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    result = analysis(session, viewer, since=since, until=until, organisation_id=organisation.id)
    vertex = result.vertex_of[organisation.id]
    metrics = result.metrics_of(vertex)
    # Its partners and the links among them: all the diagnosis reads of the graph.
    weights = result.weights()
    ego = sorted({vertex, *weights.indices[weights.indptr[vertex]:weights.indptr[vertex + 1]].tolist()})
    found = analytics.diagnose(result.subgraph(ego), ego.index(vertex), metrics,
                               this_year=result.this_year, vertices=ego,
                               data_until=result.data_until())
    leaders = result.community_leaders()
    for group in found["brokerage"]["communities_bridged"]:
        group["leading_member"] = leaders.get(group["community"])
    return {"organisation": {"external_id": organisation.external_id, "name": organisation.name,
                             "kind": organisation.kind, "country": organisation.country,
                             "is_sme": organisation.is_sme},
            "metrics": organisation_metrics(result, vertex, metrics), **found, **freshness(result)}


def network_report(session: Session, viewer: Viewer, *, since: int | None = None,
                   until: int | None = None) -> dict:
    """The whole-network report; a cluster manager's counts include consenting members'
    relationships."""
    result = analysis(session, viewer, since=since, until=until,
                      for_aggregates=viewer.is_cluster_manager)
    return {"since": since, "until": until, **result.report, **freshness(result)}


def graph_view(session: Session, viewer: Viewer, *, q: str | None = None,
               kind: str | None = None, country: str | None = None, sme: bool | None = None,
               community: int | None = None, limit: int = 300, view: str = "auto") -> dict:
    """Nodes (with positions) and links for drawing, filtered; communities when too many.

    ``view`` is ``organisations``, ``communities`` or ``auto`` (communities when more
    organisations match than ``limit`` and no text search narrows them).
    """
    result = analysis(session, viewer)
    G, metrics = result.graph, result.metrics
    n = G.vcount()
    keep = np.ones(n, dtype=bool)
    if kind:
        keep &= np.array([k == kind for k in G.vs["kind"]], dtype=bool)
    if country:
        keep &= np.array([c == country.upper() for c in G.vs["country"]], dtype=bool)
    if sme is not None:
        keep &= np.array([s is sme for s in G.vs["is_sme"]], dtype=bool)
    if community is not None:
        keep &= metrics["community"] == community
    if q:
        needle = q.casefold()
        keep &= np.array([needle in (name or "").casefold() or needle in eid.casefold()
                          for name, eid in zip(G.vs["name"], G.vs["external_id"])], dtype=bool)
    matched = np.flatnonzero(keep)
    if view == "communities" or (view == "auto" and matched.size > limit and not q):
        return _community_view(result, matched, limit) | freshness(result)
    # The most central first; sorted again because the subgraph keeps vertex order.
    chosen = np.sort(matched[np.argsort(-metrics["pagerank"][matched], kind="stable")][:limit])
    sub = result.subgraph(chosen.tolist())
    positions = analytics.layout(sub)
    nodes = [{"id": G.vs[int(v)]["external_id"], "label": G.vs[int(v)]["name"],
              "kind": G.vs[int(v)]["kind"], "country": G.vs[int(v)]["country"],
              "is_sme": G.vs[int(v)]["is_sme"], "community": int(metrics["community"][v]),
              "degree": int(metrics["degree"][v]), "pagerank": float(metrics["pagerank"][v]),
              "x": float(x), "y": float(y)} for v, (x, y) in zip(chosen, positions)]
    ids = [node["id"] for node in nodes]
    sources, targets, weights = analytics.graph.edge_arrays(sub)
    # The strongest links only, so a dense core stays drawable.
    strongest = np.argsort(-weights, kind="stable")[:MAX_LINKS_PER_NODE * max(len(ids), 1)]
    links = [{"source": ids[sources[e]], "target": ids[targets[e]], "weight": float(weights[e])}
             for e in np.sort(strongest)]
    return {"view": "organisations", "matched": int(matched.size), "total": n,
            "nodes": nodes, "links": links, **freshness(result)}


def _community_view(result: Analysis, matched: np.ndarray, limit: int) -> dict:
    G, membership = result.graph, result.metrics["community"]
    sizes = np.bincount(membership[matched], minlength=int(membership.max(initial=-1)) + 1)
    # A community has two organisations or more (as in the report): one alone is in none.
    shown = [int(c) for c in np.argsort(-sizes, kind="stable")[:min(limit, 100)] if sizes[c] > 1]
    index = {c: i for i, c in enumerate(shown)}
    in_view = np.zeros(G.vcount(), dtype=bool)
    in_view[matched] = True
    a, b, weights = analytics.community_links(G, membership, keep=in_view)
    drawn = np.isin(a, shown) & np.isin(b, shown)
    pairs = {(int(x), int(y)): float(w) for x, y, w in zip(a[drawn], b[drawn], weights[drawn])}
    summary = analytics.collaboration_graph(
        len(shown), [index[x] for x, _ in pairs], [index[y] for _, y in pairs],
        weight=list(pairs.values()))
    positions = analytics.layout(summary)
    leaders = result.community_leaders()
    nodes = [{"id": f"community-{c}", "community": c, "organisations": int(sizes[c]),
              "label": f"{leaders.get(c) or 'Community ' + str(c)} and {int(sizes[c]) - 1} more",
              "x": float(x), "y": float(y)} for c, (x, y) in zip(shown, positions)]
    links = [{"source": f"community-{x}", "target": f"community-{y}", "weight": w}
             for (x, y), w in pairs.items()]
    return {"view": "communities", "matched": int(matched.size), "total": G.vcount(),
            "communities": int(np.count_nonzero(sizes > 1)), "nodes": nodes, "links": links}


def graph_with_measures(session: Session, viewer: Viewer, *, since: int | None = None,
                        until: int | None = None) -> ig.Graph:
    """A copy of the viewer's graph with every organisation's measures on its vertices."""
    return _with_measures(analysis(session, viewer, since=since, until=until))


def _with_measures(result: Analysis) -> ig.Graph:
    G = result.subgraph(list(range(result.graph.vcount())))
    for name in analytics.METRICS:
        G.vs[name] = [None if isinstance(x, float) and not np.isfinite(x) else x
                      for x in result.metrics[name].tolist()]
    return G


def networkx_graph(session: Session, viewer: Viewer):
    """The viewer's graph as a :class:`networkx.Graph` keyed by external id, with measures."""
    return analytics.to_networkx(graph_with_measures(session, viewer))


def export_graph(session: Session, viewer: Viewer, *, format: str, since: int | None = None,
                 until: int | None = None) -> bytes:
    """The viewer's graph as GEXF or GraphML, with every organisation's measures."""
    _check_format(format)
    buffer = io.BytesIO()
    _write(graph_with_measures(session, viewer, since=since, until=until), format, buffer)
    return buffer.getvalue()


def _check_format(format: str) -> None:
    if format not in EXPORT_FORMATS:
        message = f"must be one of {', '.join(EXPORT_FORMATS)}"
        raise InvalidInput(f"format: {message}.", [Problem(message, field="format")])


def _write(graph: ig.Graph, format: str, file) -> None:
    # XML cannot carry control characters; records from before they were refused may hold one.
    for name in graph.vs.attributes():
        graph.vs[name] = [strip_control_characters(x) if isinstance(x, str) else x for x in graph.vs[name]]
    (analytics.write_gexf if format == "gexf" else analytics.write_graphml)(graph, file)


def start_export(session: Session, viewer: Viewer, *, format: str, since: int | None = None,
                 until: int | None = None):
    """In the web app: a job that writes the viewer's graph to a file to download when it
    is done (the full network's GEXF is about 160 MB: never built inside a request)."""
    _check_format(format)
    _window(since, until)
    # Built from every relationship the viewer may see, with every measure exact.
    public, others = _visible_relationships(session, viewer, for_aggregates=False,
                                            since=since, until=until)
    spec = AnalysisSpec(since, until, viewer.today.year, (*public, *others))
    return web_queue(session).submit(EXPORT_JOB, {"format": format, **spec.params()},
                                    user_id=viewer.user_id)


def _read_export(session: Session, viewer: Viewer, job: Job) -> None:
    """The file holds the relationships its starter could read then: it is theirs while they
    still read every one of them (a share withdrawn or a membership ended takes it away).
    Each organisation whose non-public relationships it holds sees the download."""
    spec = AnalysisSpec.from_params(json.loads(job.params))
    ids = {r.id for r in spec.relationships}
    readable = {id: (owner, visibility) for id, owner, visibility in session.execute(select(
        Relationship.id, Relationship.organisation_id, Relationship.visibility).where(
        policy.visible_condition(viewer, Relationship)))}
    if not ids <= readable.keys():
        raise Forbidden("This file holds relationships you may no longer read: export the network again.")
    for owner in sorted({readable[i][0] for i in ids if readable[i][1] != "public"}):
        sharing.record_download(session, viewer, organisation_id=owner,
                                detail=f"its relationships in a network export (job {job.id})")


@job_kind(EXPORT_JOB, title="Export the network (GEXF or GraphML) for Gephi and other tools",
          file_reader=_read_export)
def _export_job(context: JobContext) -> dict:
    spec, format = AnalysisSpec.from_params(context.params), context.params["format"]
    context.progress(0, 2, "Building the graph and its measures.")
    with transaction(context.sessions, writes=False) as session:
        built = _build(session, _window(spec.since, spec.until), spec.relationships,
                       this_year=spec.this_year)
    context.progress(1, 2, f"Writing the {format.upper()} file.")
    path = files_dir(context.settings) / f"innonet-network-{context.job_id}.{format}"
    partial = path.with_suffix(".partial")
    with partial.open("wb") as file:  # a download never sees half a file
        _write(_with_measures(built), format, file)
    partial.replace(path)
    return {"link": f"/jobs/{context.job_id}/file", "link_text": f"Download the {format.upper()} file",
            "file": path.name, "bytes": path.stat().st_size}
