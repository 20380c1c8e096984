"""Every organisation's network figures by year, computed by a daily background job from
the public network (public projects and public relationships) and stored in
``network_year``, so that a dashboard reads one organisation's rows instead of computing.

Public records only: the same figures for every viewer, and none that moves with another
organisation's private records (docs/kpis.md).
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from innonet.analytics.diagnosis import CATEGORY_OF_KIND
from innonet.analytics.network_years import CATEGORIES, FIGURES, network_years
from innonet.collaborations.models import Participation, Project, Relationship
from innonet.db import transaction, utcnow
from innonet.jobs.service import JobContext, job_kind
from innonet.kpis.models import NetworkYear
from innonet.organisations.models import Organisation

NETWORK_JOB = "kpis.network_years"
# A recorded tie weighs as much as this many shared projects per point of strength (1-5),
# as in the network diagnosis.
RELATIONSHIP_WEIGHT_PER_STRENGTH = 0.2
INTEGER_FIGURES = ("partners", "breadth", "new_partners", "lost_partners")
INSERT_BATCH = 5_000


@dataclass(frozen=True)
class PublicNetwork:
    """The public network's records as arrays for ``analytics.network_years``."""

    organisation_ids: np.ndarray  # the database id of each vertex
    project: np.ndarray  # per participation: the project's index
    organisation: np.ndarray  # per participation: the organisation's vertex
    project_start: np.ndarray  # per project: the year it started
    project_end: np.ndarray  # per project: the year it ended
    countries: list[str]  # the country codes the ``country`` array counts in ("" for unknown)
    category: np.ndarray  # per vertex: the index of its partner category
    country: np.ndarray  # per vertex: the index of its country
    ties: tuple[np.ndarray, ...] | None  # public relationships: sources, targets, weights, first and last years


def public_network(session: Session) -> PublicNetwork:
    """The public network as it stands in the database."""
    orgs = session.execute(select(Organisation.id, Organisation.kind, Organisation.country)
                           .order_by(Organisation.id)).all()
    vertex_of = {o.id: v for v, o in enumerate(orgs)}
    rows = session.execute(
        select(Participation.project_id, Participation.organisation_id, Project.start_date, Project.end_date)
        .join(Project, Project.id == Participation.project_id)
        .where(Project.start_date.is_not(None))).all()
    project_ids, project = np.unique(np.array([r.project_id for r in rows], dtype=np.int64), return_inverse=True)
    start = np.zeros(project_ids.size, dtype=np.int64)
    end = np.zeros(project_ids.size, dtype=np.int64)
    for index, r in zip(project.tolist(), rows):
        start[index] = r.start_date.year
        end[index] = (r.end_date or r.start_date).year  # a project without an end ran in its first year
    countries = sorted({o.country or "" for o in orgs})
    code = {c: i for i, c in enumerate(countries)}
    relationships = session.execute(
        select(Relationship.organisation_id, Relationship.partner_id, Relationship.strength,
               Relationship.start_date, Relationship.end_date).where(Relationship.visibility == "public")).all()
    ties = (np.array([vertex_of[r.organisation_id] for r in relationships], dtype=np.int64),
            np.array([vertex_of[r.partner_id] for r in relationships], dtype=np.int64),
            np.array([r.strength * RELATIONSHIP_WEIGHT_PER_STRENGTH for r in relationships]),
            # Known since before any year asked, or without an end: it runs in all of them.
            np.array([r.start_date.year if r.start_date else 0 for r in relationships], dtype=np.int64),
            np.array([r.end_date.year if r.end_date else 9999 for r in relationships], dtype=np.int64))
    return PublicNetwork(
        organisation_ids=np.array([o.id for o in orgs], dtype=np.int64), project=project,
        organisation=np.array([vertex_of[r.organisation_id] for r in rows], dtype=np.int64),
        project_start=start, project_end=end, countries=countries,
        category=np.array([CATEGORIES.index(CATEGORY_OF_KIND.get(o.kind, "other")) for o in orgs], dtype=np.int64),
        country=np.array([code[o.country or ""] for o in orgs], dtype=np.int64),
        ties=ties if relationships else None)


def years_held(network: PublicNetwork, *, this_year: int) -> list[int]:
    """From the first year a public project started to the last it ran, up to this year."""
    if network.project_start.size == 0:
        return []
    return list(range(int(network.project_start.min()),
                      min(int(network.project_end.max()), this_year) + 1))


def compute(network: PublicNetwork, years: list[int]) -> dict:
    """All organisations' figures for these years (analytics.network_years)."""
    return network_years(network.project, network.organisation, network.project_start,
                         network.project_end, n=network.organisation_ids.size, years=years,
                         category=network.category, country=network.country, ties=network.ties)


def rows_of(network: PublicNetwork, years: list[int], found: dict) -> Iterator[dict[str, Any]]:
    """The ``network_year`` rows: one per organisation and year with partners then, or lost."""
    now = utcnow()
    for row, year in enumerate(years):
        partners = found["partners"][row]
        lost = np.nan_to_num(found["lost_partners"][row])
        by_country = found["by_country"][row].tocsr()
        for v in np.flatnonzero((partners > 0) | (lost > 0)).tolist():
            values = {name: _number(found[name][row, v], name) for name in FIGURES}
            start, stop = by_country.indptr[v], by_country.indptr[v + 1]
            yield values | {
                "organisation_id": int(network.organisation_ids[v]), "year": year,
                "by_category": {CATEGORIES[c]: int(k) for c, k in enumerate(found["by_category"][row, v]) if k},
                "by_country": {network.countries[c]: int(k) for c, k in
                               zip(by_country.indices[start:stop].tolist(), by_country.data[start:stop].tolist())},
                "computed_at": now}


def _number(value: float, name: str) -> float | int | None:
    value = float(value)
    if math.isnan(value):
        return None
    return int(value) if name in INTEGER_FIGURES else value


def store(session: Session, network: PublicNetwork, years: list[int], found: dict | None) -> dict:
    """Replace the stored figures with these."""
    session.execute(delete(NetworkYear))
    stored = 0
    if found is not None:
        batch = []
        for row in rows_of(network, years, found):
            batch.append(row)
            if len(batch) == INSERT_BATCH:
                session.execute(insert(NetworkYear), batch)
                stored, batch = stored + len(batch), []
        if batch:
            session.execute(insert(NetworkYear), batch)
            stored += len(batch)
    return {"years": f"{years[0]}-{years[-1]}" if years else "none", "rows": stored,
            "organisations": int(network.organisation_ids.size)}


def refresh(session: Session, *, this_year: int) -> dict:
    """Recompute and store every organisation's network figures by year, in one session."""
    network = public_network(session)
    years = years_held(network, this_year=this_year)
    return store(session, network, years, compute(network, years) if years else None)


@job_kind(NETWORK_JOB, title="Compute every organisation's network figures by year", daily=True)
def _network_years_job(context: JobContext) -> dict:
    # Read, compute and write apart: the computing (seconds) holds no write lock.
    with transaction(context.sessions, writes=False) as session:
        network = public_network(session)
    years = years_held(network, this_year=date.today().year)
    found = compute(network, years) if years else None
    with transaction(context.sessions) as session:
        return store(session, network, years, found)
