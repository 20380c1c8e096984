"""Building an analysis: the graph of a time window from the public data and the
relationships given, and its measures."""

import hashlib
import json
import pickle
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import igraph as ig
import numpy as np
import scipy.sparse as sp
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from innonet import analytics
from innonet.collaborations.models import (
    INVERSE_KINDS,
    Participation,
    Project,
    Relationship,
)
from innonet.db import end_read, utcnow
from innonet.errors import InvalidInput, Problem
from innonet.network.models import StoredAnalysis
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.sharing import policy

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

    # The graph; a stored analysis keeps it pickled until first used (see PickledGraph).
    _graph: "ig.Graph | PickledGraph"
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
    added: "AddedLinks | None" = field(default=None, repr=False)
    _partner_kinds: dict | None = field(default=None, repr=False)
    _report: dict | None = field(default=None, repr=False)
    _weights: sp.csr_matrix | None = field(default=None, repr=False)
    _adjacency: sp.csr_matrix | None = field(default=None, repr=False)
    _leaders: dict[int, str] | None = field(default=None, repr=False)
    _data_until: int | None = field(default=None, repr=False)
    # Each vertex's external_id, name, kind and country, when stored apart from the graph.
    _vertices: dict[str, list] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def graph(self) -> ig.Graph:
        return self._graph.load() if isinstance(self._graph, PickledGraph) else self._graph

    def vertex_values(self, attribute: str) -> list:
        """One of VERTEX_ATTRIBUTES for every vertex, without unpickling a stored graph."""
        if self._vertices is not None:
            return self._vertices[attribute]
        return self.graph.vs[attribute]

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


# The conditions on Project that keep a time window's projects.
Window = list[ColumnElement[bool]]


def checked_window(since: int | None, until: int | None) -> Window:
    if since is not None and until is not None and since > until:
        raise InvalidInput("since: must not be after 'until'.",
                           [Problem("must not be after 'until'", field="since")])
    conditions: Window = []
    if since is not None:
        conditions.append(Project.start_date >= date(since, 1, 1))
    if until is not None:
        conditions.append(Project.start_date <= date(until, 12, 31))
    return conditions


def visible_relationships(session: Session, viewer: Viewer, *, for_aggregates: bool,
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


@dataclass(frozen=True)
class AddedLinks:
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


def added_years(inverse: np.ndarray, ties: "_Ties", count: int) -> tuple[np.ndarray, np.ndarray]:
    """For each added pair, its relationships' earliest start and latest end (-1: unknown,
    or for the end, ongoing)."""
    first, last = np.full(count, -1), np.full(count, -2)
    for pair, since, until in zip(inverse.tolist(), ties.first, ties.last):
        if since >= 0:
            first[pair] = since if first[pair] < 0 else min(first[pair], since)
        last[pair] = -1 if until < 0 or last[pair] == -1 else max(last[pair], until)
    return first, last


# What a partner search reads of the vertices: stored beside the graph, so that answering it
# never waits for the graph to be unpickled (half a second on the full data).
VERTEX_ATTRIBUTES = ("external_id", "name", "kind", "country")


class PickledGraph:
    """A stored analysis's graph, kept as its pickle until first used and then unpickled
    once (the copies made for each viewer share it)."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload
        self._graph: ig.Graph | None = None
        self._lock = threading.Lock()

    def load(self) -> ig.Graph:
        with self._lock:
            if self._graph is None:
                # Written by this application's own job (never by a user): safe to unpickle.
                self._graph = pickle.loads(self._payload)  # noqa: S301
                self._payload = b""  # the memory it held is not needed again
            return self._graph


def pack_for_storing(built: Analysis) -> bytes:
    """The payload of a stored analysis: the graph pickled on its own, with what a partner
    search needs beside it (the vertices' names and kinds, the weighted links, the partner
    kinds) and the report."""
    graph = built.graph
    return pickle.dumps({
        "graph": pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL), "metrics": built.metrics,
        "organisation_ids": built.organisation_ids, "vertex_of": built.vertex_of, "this_year": built.this_year,
        "report": built.report, "weights": built.weights(), "partner_kinds": built.partner_kinds(),
        "vertices": {attribute: graph.vs[attribute] for attribute in VERTEX_ATTRIBUTES}},
        protocol=pickle.HIGHEST_PROTOCOL)


def unpack_stored(stored: StoredAnalysis) -> Analysis:
    # Written by this application's own job (never by a user): safe to unpickle.
    data = pickle.loads(stored.payload)  # noqa: S301
    graph = PickledGraph(data["graph"]) if isinstance(data["graph"], bytes) else data["graph"]
    return Analysis(graph, data["metrics"], data["organisation_ids"], data["vertex_of"],
                    data["this_year"], computed_at=stored.created_at, _report=data["report"],
                    relationship_ids=frozenset(r[0] for r in json.loads(stored.relationships)),
                    _weights=data.get("weights"), _partner_kinds=data.get("partner_kinds"),
                    _vertices=data.get("vertices"))


def _pair_years(project: np.ndarray, member: np.ndarray, years: np.ndarray, n: int, *,
                latest: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each pair sharing a dated project, the earliest (or latest) of those years.

    Returns (pair keys ``a * n + b`` with a < b, years), sorted by key.
    """
    sign = -1 if latest else 1
    key_parts, value_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for year in np.unique(years[years >= 0]):
        s, t, _ = analytics.co_participation_edges(project[years == year],
                                                   member[years == year], n)
        key_parts.append(s * n + t)
        value_parts.append(np.full(s.size, sign * year, dtype=np.int64))
    keys, values = np.concatenate(key_parts), np.concatenate(value_parts)
    order = np.lexsort((values, keys))
    unique, first = np.unique(keys[order], return_index=True)
    return unique, sign * values[order][first]


def build_analysis(session: Session, window: Window, relationships: Sequence[RelationshipRow], *,
                   this_year: int) -> Analysis:
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
    ties = relationship_ties(relationships, vertex_of, n)

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


def _co_participations(session: Session, window: Window, vertex_of: dict[int, int]) -> _Participations:
    rows = session.execute(
        select(Participation.project_id, Participation.organisation_id, Project.start_date,
               Project.end_date).join(Project, Project.id == Participation.project_id)
        .where(*window)).all()
    # Column by column: reading 90,000 rows' fields one row at a time takes a good part of a second.
    project_ids, organisation_ids, starts, ends = zip(*rows) if rows else ((), (), (), ())
    project = np.array(project_ids, dtype=np.int64)
    member = np.array([vertex_of[o] for o in organisation_ids], dtype=np.int64)
    start = np.array([d.year if d else -1 for d in starts], dtype=np.int64)
    end = np.array([d.year if d else s for d, s in zip(ends, start.tolist())], dtype=np.int64)
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


def relationship_ties(relationships: Sequence[RelationshipRow], vertex_of: dict[int, int], n: int) -> _Ties:
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


def _tie_years(unique: np.ndarray, together: _Participations, ties: _Ties,
               n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
