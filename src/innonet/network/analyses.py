"""Where analyses live: the process's cache, the stored analyses a worker writes, the
analysis job, a viewer's own ties added to a shared analysis, and making the newest one
ready before anyone asks."""

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import numpy as np
import scipy.sparse as sp
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from innonet import analytics
from innonet.db import end_read, rows_changed, transaction
from innonet.errors import InnonetError, Pending
from innonet.jobs.models import Job
from innonet.jobs.queue import JobQueue, queue_of
from innonet.jobs.service import JobContext, job_kind, tidy_step
from innonet.network.building import (
    ANALYSIS_JOB,
    CACHE_SIZE,
    OWN_CACHE_SIZE,
    AddedLinks,
    Analysis,
    AnalysisSpec,
    RelationshipRow,
    Window,
    added_years,
    build_analysis,
    checked_window,
    pack_for_storing,
    relationship_ties,
    unpack_stored,
    visible_relationships,
)
from innonet.network.models import StoredAnalysis
from innonet.roles import Viewer
from innonet.versions import NetworkChange, data_version

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
    window = checked_window(since, until)
    public, others = visible_relationships(session, viewer, for_aggregates=for_aggregates,
                                            since=since, until=until)
    spec = AnalysisSpec(since, until, viewer.today.year, tuple(public))
    shared = _shared_analysis(session, window, spec, seen=[*public, *others],
                              organisation_id=organisation_id)
    # An earlier analysis may hold relationships that were public then and are not now.
    return _with_relationships(shared, [r for r in others if r.id not in shared.relationship_ids])


def _shared_analysis(session: Session, window: Window, spec: AnalysisSpec, *,
                     seen: list[RelationshipRow], organisation_id: int | None) -> Analysis:
    key = spec.key(data_version(session))
    database = str(session.get_bind().engine.url)
    with _cache_lock:
        if (database, key) in _cache:
            _cache.move_to_end((database, key))
            return _cache[(database, key)]
    queue = queue_of(session)
    stored = session.get(StoredAnalysis, key)
    if queue is None:
        # A command or a job: the analysis the server's jobs (or `prepare`) stored, else
        # one computed here.
        if stored is not None:
            return _loaded(database, stored)
        return _remember(database, key, build_analysis(session, window, spec.relationships,
                                                       this_year=spec.this_year))
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
    ties = relationship_ties(relationships, shared.vertex_of, n)
    pairs, inverse = np.unique(np.array(ties.keys, dtype=np.int64), return_inverse=True)
    first, last = added_years(inverse, ties, pairs.size)
    added = AddedLinks(pairs // n, pairs % n, np.bincount(inverse, ties.weights, minlength=pairs.size),
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
    for name, measured in analytics.local_measures(weights, parties).items():
        metrics[name] = metrics[name].copy()
        metrics[name][parties] = measured
    built = replace(shared, metrics=metrics, base=shared, added=added, _partner_kinds=kinds,
                    relationship_ids=shared.relationship_ids | {r.id for r in relationships},
                    private_relationships=len(relationships), _report=None,
                    _weights=weights, _adjacency=None, _lock=threading.Lock())
    with _cache_lock:
        _own[key] = built
        while len(_own) > OWN_CACHE_SIZE:
            _own.popitem(last=False)
    return built


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
        built = unpack_stored(stored)
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


def _unpack_once(sessions: sessionmaker, database: str, key: str) -> bool:
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


def _unpack_in_background(sessions: sessionmaker, database: str, key: str) -> None:
    with _cache_lock:
        if (database, key) in _unpacking:
            return
    threading.Thread(target=_unpack_once, args=(sessions, database, key), daemon=True,
                     name="innonet-unpack").start()


def _wait_for(queue: JobQueue, job_id: int, database: str, spec: AnalysisSpec,
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


def _public_spec(session: Session, today: date) -> AnalysisSpec:
    """The shared analysis of the whole period, which every viewer's analysis starts from."""
    public, _ = visible_relationships(session, Viewer(today=today), for_aggregates=False,
                                       since=None, until=None)
    return AnalysisSpec(None, None, today.year, tuple(public))


def prepare_public_analysis(queue: JobQueue, today: date) -> None:
    """Have a worker compute the shared analysis of the whole period, so that the first
    pages after a start or an import answer at once."""
    with transaction(queue.sessions, writes=False) as session:
        spec = _public_spec(session, today)
        if session.get(StoredAnalysis, spec.key(data_version(session))) is not None:
            return
    queue.submit(ANALYSIS_JOB, spec.params(), dedupe_key=spec.dedupe_key())


def store_public_analysis(sessions: sessionmaker, today: date) -> None:
    """Compute and store here (a command) the shared analysis of the whole period, unless
    it is stored: the commands after read it instead of computing it again."""
    with transaction(sessions, writes=False) as session:
        spec = _public_spec(session, today)
    _compute_and_store(sessions, spec)


def prefetch(sessions: sessionmaker, today: date) -> bool:
    """Load the newest shared analysis of the whole period into this process, with its
    weighted links, once a worker has stored it: the request after would unpack it.
    Returns whether it loaded one."""
    with transaction(sessions, writes=False) as session:
        key = _public_spec(session, today).key(data_version(session))
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
    return {"key": _compute_and_store(context.sessions, spec, context.progress)}


def _compute_and_store(sessions: sessionmaker, spec: AnalysisSpec,
                       progress: Callable[[int, int, str], object] = lambda done, total, message: None) -> str:
    """The key of the analysis ``spec`` names, computed (in a read) and stored (one short
    write) unless it is stored already."""
    progress(0, 2, "Building the graph and its measures.")
    with transaction(sessions, writes=False) as session:
        key = spec.key(data_version(session))
        if session.get(StoredAnalysis, key) is None:
            built = build_analysis(session, checked_window(spec.since, spec.until), spec.relationships,
                                   this_year=spec.this_year)
            built.report  # noqa: B018 - part of what is stored
        else:
            built = None
    if built is not None:
        progress(1, 2, "Saving the analysis.")
        try:
            with transaction(sessions) as session:
                if session.get(StoredAnalysis, key) is None:
                    _store(session, spec, key, built)
        except IntegrityError:
            pass  # another job stored the same analysis (the same data and relationships) first
    return key


def _store(session: Session, spec: AnalysisSpec, key: str, built: Analysis) -> None:
    """Keep the analysis (and its report) for every process; the oldest of its window go."""
    payload = pack_for_storing(built)
    session.add(StoredAnalysis(key=key, since=spec.since, until=spec.until, this_year=spec.this_year,
                               payload=payload, relationships=spec.relationships_json()))
    session.flush()
    _prune(session, spec)


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
