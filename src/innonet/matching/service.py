"""Partner recommendations from the database.

The finder reads public data only: organisations, projects and participations. No
relationship, share or private note enters it, so no recommendation and no reason can
reveal what the asking user may not see. It is built once per data version and kept
with the rankers it has learned.
"""

import threading
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from innonet.collaborations.models import Participation, Project
from innonet.errors import InvalidInput, Problem
from innonet.matching import features, ranker
from innonet.matching.history import KIND_CODES, History, history_until
from innonet.network.service import data_version
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation

MAX_K = 200


@dataclass
class Finder:
    """The history of the database at one data version, and the rankers learned from it."""

    rows: list[dict]
    texts: dict
    history: History
    organisation_ids: list[int]
    external_ids: list[str]
    _models: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.index_of = {org: i for i, org in enumerate(self.organisation_ids)}

    def model(self, question: str):
        """The ranker for a question, learned on first use; None when the history is too
        short to learn from (the finder then orders by the network walk)."""
        with self._lock:
            if question not in self._models:
                self._models[question] = ranker.fit(self.rows, self.texts,
                                                    self.history.last_year, question)
            return self._models[question]

    def recommend(self, asker: int, need: str | None, k: int, *, new_partners_only: bool,
                  allowed: np.ndarray | None = None, walk: np.ndarray | None = None):
        """(candidate index, ranker score) pairs, best first, at most k."""
        question = ranker.NEW_PARTNERS if new_partners_only else ranker.CONSORTIUM
        history = self.history
        if walk is None:
            walk = history.walks([asker])[:, 0]
        pool = features.candidates(history, asker, history.need_vector(need, asker), walk,
                                   exclude_partners=new_partners_only, allowed=allowed)
        ids, scores = ranker.order(self.model(question), pool)
        return list(zip(ids[:k].tolist(), scores[:k].tolist()))


_cache: dict[int, Finder] = {}
_cache_lock = threading.Lock()


def finder(session: Session) -> Finder:
    """The finder for the database's current data (only the newest is kept)."""
    version = data_version(session)
    with _cache_lock:
        if version not in _cache:
            _cache.clear()
            _cache[version] = _build(session)
        return _cache[version]


def _build(session: Session) -> Finder:
    orgs = session.execute(select(
        Organisation.id, Organisation.external_id, Organisation.kind, Organisation.country,
        Organisation.description, Organisation.capabilities, Organisation.sectors)
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
    history, keys = history_until(rows, texts, last_year, own_words, organisations=profile)
    return Finder(rows, texts, history, keys, [o.external_id for o in orgs])


def check_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K}.",
                           [Problem(f"must be between 1 and {MAX_K}", field="k")])
    return k


def batch_new_partners(session: Session, external_ids: list[str], k: int, warn) -> list[tuple]:
    """``org_id,rank,partner_id,score`` rows for each known organisation: at most k new
    partners, never itself nor an existing partner. Unknown ids go to ``warn``."""
    return _batch(session, [(key, key, None) for key in external_ids], k, warn,
                  new_partners_only=True)


def batch_needs(session: Session, needs: list[tuple[str, str, str]], k: int, warn) -> list[tuple]:
    """``query_id,rank,partner_id,score`` rows for each (query id, organisation, need):
    existing partners may come back, the organisation itself never does."""
    return _batch(session, needs, k, warn, new_partners_only=False)


def _batch(session, questions, k, warn, *, new_partners_only) -> list[tuple]:
    check_k(k)
    found = finder(session)
    ids = organisations.ids_by_external_id(session, external_ids=[q[1] for q in questions])
    known = []
    for query, organisation, need in questions:
        if organisation in ids:
            known.append((query, found.index_of[ids[organisation]], need))
        else:
            warn(f"Unknown organisation {organisation!r}: skipped.")
    out = []
    for start in range(0, len(known), ranker.BATCH):
        batch = known[start:start + ranker.BATCH]
        walks = found.history.walks([asker for _, asker, _ in batch])
        for column, (query, asker, need) in enumerate(batch):
            ranked = found.recommend(asker, need, k, new_partners_only=new_partners_only,
                                     walk=walks[:, column])
            out.extend((query, rank, found.external_ids[candidate], round(score, 6))
                       for rank, (candidate, score) in enumerate(ranked, start=1))
    return out
