"""The partner finder: the history of the database at one data version, prepared once
(kept in memory, and in the data directory for the next process) with the rankers learned
for that history, and the job that learns them."""

import hashlib
import logging
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Final, Literal

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from innonet import __version__
from innonet.analytics import words
from innonet.collaborations.models import Participation, Project
from innonet.config import PREPARED_DIR
from innonet.db import describe_error, transaction
from innonet.jobs.models import Job
from innonet.jobs.queue import JobQueue, queue_of
from innonet.jobs.service import JobContext, job_kind
from innonet.matching import factors, features, ranker
from innonet.matching.history import KIND_CODES, History, history_until
from innonet.matching.models import RankerModel
from innonet.organisations.models import Organisation
from innonet.versions import data_version

# About 220 kB each on the 27,411-organisation network.
WALKS_KEPT = 256
logger = logging.getLogger("innonet.matching")
TRAINING_JOB = "matching.train_rankers"
class Stored(Enum):
    NOT_LEARNED = "not learned"


# A ranker no job has stored yet for the history (None means: too little history to learn).
NOT_LEARNED: Final = Stored.NOT_LEARNED


@dataclass
class Finder:
    """The history of the database at one data version, and the rankers learned from it.

    Rankers depend on the history alone (participations, years, project words), named by
    ``digest``: a change to profiles or relationships keeps them, and the rankers stored
    by ``innonet train-rankers`` for the same history are used without learning again.
    """

    digest: str
    rows: list[dict]
    texts: dict
    history: History
    organisation_ids: list[int]
    external_ids: list[str]
    is_sme: np.ndarray  # True for organisations known to be SMEs
    statements: dict[int, factors.Statement]
    _models: dict = field(default_factory=dict)
    _walks: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.index_of = {org: i for i, org in enumerate(self.organisation_ids)}
        self.id_array = np.asarray(self.organisation_ids, dtype=np.int64)

    def model(self, question: str) -> ranker.Scorer | None:
        """The ranker for a question, learned here on first use (the command line); None
        when the history is too short to learn from (the finder then orders by the
        network walk)."""
        with self._lock:
            if question not in self._models:
                key = (self.digest, question)
                if key not in _learned:
                    _remember(key, ranker.fit(self.rows, self.texts, self.history.last_year,
                                              question))
                self._models[question] = _learned[key]
            return self._models[question]

    def stored_model(self, session: Session,
                     question: str) -> ranker.Scorer | None | Literal[Stored.NOT_LEARNED]:
        """The ranker a training job stored for this history: a model, None when the history
        is too short to learn from, or NOT_LEARNED while no job has stored one yet."""
        with self._lock:
            if question in self._models:
                return self._models[question]
        stored = session.scalar(select(RankerModel.model).where(
            RankerModel.history_digest == self.digest, RankerModel.question == question))
        if stored is None:
            return NOT_LEARNED
        with self._lock:
            self._models[question] = ranker.from_text(stored)
            return self._models[question]

    def walk(self, asker: int) -> np.ndarray:
        """The network walk from one organisation, kept for the last WALKS_KEPT askers:
        someone refining a search (weights, filters, words) asks again and again."""
        with self._lock:
            if asker in self._walks:
                self._walks.move_to_end(asker)
                return self._walks[asker]
        walk = self.history.walks([asker])[:, 0]
        with self._lock:
            self._walks[asker] = walk
            while len(self._walks) > WALKS_KEPT:
                self._walks.popitem(last=False)
        return walk

    def recommend(self, asker: int, need: str | None, k: int, *, new_partners_only: bool,
                  allowed: np.ndarray | None = None, walk: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(candidate index, ranker score) pairs, best first, at most k."""
        question = ranker.NEW_PARTNERS if new_partners_only else ranker.CONSORTIUM
        history = self.history
        if walk is None:
            walk = self.walk(asker)
        pool = features.candidates(history, asker, history.need_vector(need, asker),
                                   history.need_meaning(need, asker), walk,
                                   exclude_partners=new_partners_only, allowed=allowed)
        ids, scores = ranker.order(self.model(question), pool)
        return list(zip(ids[:k].tolist(), scores[:k].tolist()))


_cache: dict[int, Finder] = {}
_cache_lock = threading.Lock()  # guards _cache, held only to read or replace it
_build_lock = threading.Lock()  # one build at a time (seconds on the full data)
# Rankers learned in this process, by (history digest, question); the newest history only.
_learned: dict[tuple[str, str], ranker.Scorer | None] = {}


def _remember(key: tuple[str, str], model: ranker.Scorer | None) -> None:
    for old in [k for k in _learned if k[0] != key[0]]:
        del _learned[old]
    _learned[key] = model


def finder(session: Session) -> Finder:
    """The finder for the database's current data (only the newest is kept), with the
    rankers stored for its history."""
    version = data_version(session)
    with _cache_lock:
        if version in _cache:
            return _cache[version]
    with _build_lock:
        with _cache_lock:
            if version in _cache:  # built while this one waited
                return _cache[version]
        path = _prepared_path(session, version)
        built = _read_prepared(path)
        if built is None:
            built = _build(session)
            _write_prepared(path, built)
        for stored in session.scalars(select(RankerModel).where(
                RankerModel.history_digest == built.digest)):
            built._models[stored.question] = ranker.from_text(stored.model)
        with _cache_lock:
            _cache.clear()
            _cache[version] = built
        return built


# A prepared finder's file is read only by the release and features that wrote it (the
# number counts changes to what the file holds: 2, own TF-IDF instead of scikit-learn's).
PREPARED_FORMAT = repr((__version__, 2, features.FEATURES, words.VERSION))


def _prepared_path(session: Session, version: int) -> Path | None:
    """The file of the finder prepared for this database and data version, in the directory
    the session carries (none: nothing is kept between processes)."""
    directory = session.info.get(PREPARED_DIR)
    if directory is None:
        return None
    database = hashlib.sha256(str(session.get_bind().engine.url).encode()).hexdigest()[:16]
    made_by = hashlib.sha256(PREPARED_FORMAT.encode()).hexdigest()[:8]
    return Path(directory) / f"finder-{database}-{version & (2**64 - 1):016x}-{made_by}.pickle"


def _read_prepared(path: Path | None) -> Finder | None:
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as f:
            # Written by innonet itself (below) into its own data directory.
            state = pickle.load(f)  # noqa: S301
        return Finder(**state)
    except Exception as error:  # noqa: BLE001 - a damaged file is built again
        logger.warning("reading the prepared partner finder %s: %s", path, describe_error(error))
        return None


def _write_prepared(path: Path | None, built: Finder) -> None:
    """Keep the finder for the next process (a command answers in a fraction of a second
    instead of building it again); only the newest is kept for each database."""
    if path is None:
        return
    state = {f.name: getattr(built, f.name) for f in fields(Finder) if not f.name.startswith("_")}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)  # readers see the whole file or none
        for older in path.parent.glob(path.name.rsplit("-", 2)[0] + "-*.pickle"):
            if older != path:
                older.unlink(missing_ok=True)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        logger.warning("keeping the prepared partner finder in %s: %s", path.parent, describe_error(error))


def finder_now(session: Session, *, organisation_id: int) -> tuple[Finder, bool]:
    """(finder, up to date). In the web app, right after the data changed (an import), the
    finder of the data before is answered with while the new one is built in the
    background, when it knows the organisation asking: nobody waits seconds for the build."""
    queue = queue_of(session)
    version = data_version(session)
    with _cache_lock:
        current = _cache.get(version)
        previous = next(iter(_cache.values()), None)
    if current is not None:
        return current, True
    if queue is None or queue.immediate or previous is None \
            or organisation_id not in previous.index_of:
        return finder(session), True
    if not _build_lock.locked():
        threading.Thread(target=_build_newest, args=(queue.sessions, session.info.get(PREPARED_DIR)),
                         daemon=True,
                         name="innonet-finder").start()
    return previous, False


def _build_newest(sessions: sessionmaker[Session], prepared_dir: Path | None) -> None:
    try:
        with transaction(sessions, writes=False) as session:
            session.info[PREPARED_DIR] = prepared_dir
            finder(session)
    except Exception as error:  # noqa: BLE001 - the next request builds it
        logger.warning("building the partner finder: %s", describe_error(error))


QUESTIONS = (ranker.NEW_PARTNERS, ranker.CONSORTIUM)


def train_rankers(sessions: sessionmaker[Session], progress: Callable[[int, int, str], None] | None = None, *,
                  unless_stored: bool = False) -> dict[str, bool]:
    """Learn both rankers for the database's history and store them (replacing those of
    older histories), so that no request waits for learning. Learning (minutes on the full
    H2020 data) reads in a transaction that blocks no writer; storing is one short write.
    With ``unless_stored``, nothing is learned when both are stored for this history
    already. Returns, for each question, whether there was enough history to learn from."""
    progress = progress or (lambda done, total, message: None)
    with transaction(sessions, writes=False) as session:
        found = finder(session)
        stored = dict(session.execute(select(RankerModel.question, RankerModel.model)
                                      .where(RankerModel.history_digest == found.digest)).all())
    if unless_stored and set(stored) >= set(QUESTIONS):
        return {question: stored[question] != "" for question in QUESTIONS}
    models = {}
    for done, question in enumerate(QUESTIONS):
        progress(done, len(QUESTIONS), f"Learning the ranker for {question.replace('_', ' ')}.")
        models[question] = ranker.fit(found.rows, found.texts, found.history.last_year, question)
    with transaction(sessions) as session:
        session.execute(delete(RankerModel))
        for question, model in models.items():
            session.add(RankerModel(history_digest=found.digest, question=question,
                                    model=ranker.to_text(model)))
    with found._lock:
        for question, model in models.items():
            _remember((found.digest, question), model)
            found._models[question] = model
    return {question: model is not None for question, model in models.items()}


@job_kind(TRAINING_JOB, title="Learn the partner finder's rankers from the newest history")
def _training_job(context: JobContext) -> dict:
    # Already stored (learned by `innonet train-rankers`, or by this job before a retry
    # after the write): learning again would give the same rankers minutes later.
    learned = train_rankers(context.sessions, context.progress, unless_stored=True)
    return {"learned": learned}


def start_training(session: Session) -> Job | None:
    """In the web app: a job that learns the rankers for the current history (one at a
    time for a history). Elsewhere: None (the command line learns in place)."""
    queue = queue_of(session)
    return None if queue is None else submit_training(queue)


def submit_training(queue: JobQueue) -> Job:
    """Hand the learning of the rankers to ``queue``: one job at a time, which learns the
    history as it is when it runs."""
    return queue.submit(TRAINING_JOB, dedupe_key=TRAINING_JOB)


def _build(session: Session) -> Finder:
    orgs = session.execute(select(
        Organisation.id, Organisation.external_id, Organisation.kind, Organisation.country,
        Organisation.description, Organisation.capabilities, Organisation.sectors,
        Organisation.goals, Organisation.values_statement, Organisation.is_sme)
        .order_by(Organisation.id)).all()
    profile = {o.id: (KIND_CODES[o.kind], o.country or "") for o in orgs}
    this_year = date.today().year
    rows = [{"project": r.project_id, "org": r.organisation_id,
             "coordinator": r.role == "coordinator", "kind": profile[r.organisation_id][0],
             "country": profile[r.organisation_id][1],
             # A project without a start date counts as current.
             "year": r.start_date.year if r.start_date else this_year}
            for r in session.execute(
                select(Participation.project_id, Participation.organisation_id,
                       Participation.role, Project.start_date)
                .join(Project, Project.id == Participation.project_id)).all()]
    texts = {p.id: ". ".join(t for t in (p.title, p.description) if t)
             for p in session.execute(select(Project.id, Project.title, Project.description))}
    own_words = {o.id: " ".join(t for t in (o.description, o.capabilities, o.sectors) if t)
                 for o in orgs}
    last_year = max((r["year"] for r in rows), default=this_year)
    learned_from = sorted((r["project"], r["org"], r["coordinator"], r["year"]) for r in rows)
    # The features are part of what a stored ranker was learned on.
    digest = hashlib.sha256(repr((features.FEATURES, words.VERSION, learned_from, sorted(
        (p, texts.get(p, "")) for p in {r["project"] for r in rows}))).encode()).hexdigest()
    history, keys = history_until(rows, texts, last_year, own_words, organisations=profile)
    by_id = {o.id: o for o in orgs}
    statements = {}
    for i, key in enumerate(keys):
        o = by_id[key]
        if o.sectors or o.goals or o.values_statement:
            statements[i] = factors.Statement(factors.sector_set(o.sectors),
                                              factors.word_set(o.goals),
                                              factors.word_set(o.values_statement))
    return Finder(digest, rows, texts, history, keys, [by_id[key].external_id for key in keys],
                  np.array([by_id[key].is_sme is True for key in keys]), statements)
