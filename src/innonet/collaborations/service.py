"""Projects, participations and relationships: the links of the collaboration graph.

The graph: organisations are linked by shared projects (weight = number of projects they
share) and by relationships that a person or an import recorded.
"""

from collections import Counter, defaultdict
from itertools import combinations

from pydantic import ValidationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from innonet.collaborations.models import Participation, Project, Relationship
from innonet.collaborations.schemas import (
    OrganisationDetail,
    ProjectDetail,
    ProjectOut,
    RelationshipFields,
    RelationshipIn,
)
from innonet.organisations.schemas import OrganisationOut
from innonet.db import upsert_rows
from innonet.errors import Conflict, InvalidInput, NotFound, Problem
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation

# ---------------------------------------------------------------- projects


def search_projects(
    session: Session, *, q: str | None = None, page: int = 1, per_page: int = 25
) -> tuple[list[Project], int]:
    """One page of projects matching the text, newest first, and the total count."""
    conditions = []
    if q and q.strip():
        pattern = organisations.like_pattern(q.strip())
        conditions.append(or_(*(column.ilike(pattern, escape="\\") for column in (
            Project.acronym, Project.title, Project.external_id, Project.topic))))
    total = session.scalar(select(func.count()).select_from(Project).where(*conditions))
    rows = session.scalars(
        select(Project).where(*conditions)
        .order_by(Project.start_date.desc().nulls_last(), Project.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total or 0


def get_project(session: Session, *, external_id: str) -> Project:
    """The project with this external id (grant number or rcn:N), or NotFound."""
    project = session.scalar(select(Project).where(Project.external_id == external_id))
    if project is None:
        raise NotFound(f"No project with id {external_id!r}.")
    return project


def participants_of(session: Session, *, project_id: int) -> list[tuple[Organisation, Participation]]:
    """The organisations in a project, coordinator first."""
    rows = session.execute(
        select(Organisation, Participation)
        .join(Participation, Participation.organisation_id == Organisation.id)
        .where(Participation.project_id == project_id)
        .order_by((Participation.role != "coordinator"), Organisation.name)
    ).all()
    return [(organisation, participation) for organisation, participation in rows]


def projects_of(
    session: Session, *, organisation_id: int, limit: int | None = None
) -> tuple[list[tuple[Project, Participation]], int]:
    """An organisation's projects, newest first (up to ``limit``), and how many it has."""
    total = session.scalar(
        select(func.count()).where(Participation.organisation_id == organisation_id))
    rows = session.execute(
        select(Project, Participation)
        .join(Participation, Participation.project_id == Project.id)
        .where(Participation.organisation_id == organisation_id)
        .order_by(Project.start_date.desc().nulls_last(), Project.id)
        .limit(limit)
    ).all()
    return [(project, participation) for project, participation in rows], total or 0


# ---------------------------------------------------------------- the graph around one organisation


def shared_project_counts(session: Session, *, organisation_id: int) -> Counter:
    """Partner id -> number of projects shared with the organisation."""
    mine, theirs = aliased(Participation), aliased(Participation)
    rows = session.execute(
        select(theirs.organisation_id, func.count())
        .join(mine, mine.project_id == theirs.project_id)
        .where(mine.organisation_id == organisation_id,
               theirs.organisation_id != organisation_id)
        .group_by(theirs.organisation_id)
    ).all()
    return Counter(dict(rows))


def relationships_touching(session: Session, *, organisation_ids) -> list[Relationship]:
    ids = list(organisation_ids)
    return list(session.scalars(
        select(Relationship)
        .where(or_(Relationship.organisation_id.in_(ids), Relationship.partner_id.in_(ids)))
        .order_by(Relationship.id)
    ))


def partners_of(
    session: Session, *, organisation_id: int, limit: int | None = None
) -> tuple[list[tuple[Organisation, int, list[str]]], int]:
    """(partner, shared projects, relationship kinds), strongest first, and the total count."""
    shared = shared_project_counts(session, organisation_id=organisation_id)
    kinds: dict[int, list[str]] = defaultdict(list)
    for rel in relationships_touching(session, organisation_ids=[organisation_id]):
        other = rel.partner_id if rel.organisation_id == organisation_id else rel.organisation_id
        kinds[other].append(rel.kind)
    partner_ids = set(shared) | set(kinds)
    ranked = sorted(partner_ids, key=lambda pid: (-shared[pid], -len(kinds[pid]), pid))
    chosen = ranked[:limit] if limit is not None else ranked
    by_id = organisations.organisations_by_id(session, ids=chosen)
    return [(by_id[pid], shared[pid], sorted(kinds[pid])) for pid in chosen], len(partner_ids)


def ego_network(session: Session, *, organisation_id: int, size: int = 40) -> dict:
    """The organisation, its ``size`` strongest partners and the links among all of them.

    Shaped for drawing: ``{"nodes": [...], "edges": [...]}``; a link's weight is the number of
    shared projects, plus the kinds of any recorded relationships.
    """
    partners, total = partners_of(session, organisation_id=organisation_id, limit=size)
    centre = organisations.organisations_by_id(session, ids=[organisation_id])[organisation_id]
    members = {centre.id: centre} | {p.id: p for p, _, _ in partners}
    projects_by_member = session.execute(
        select(Participation.project_id, Participation.organisation_id)
        .where(Participation.organisation_id.in_(list(members)))
    ).all()
    members_by_project: dict[int, list[int]] = defaultdict(list)
    for project_id, member_id in projects_by_member:
        members_by_project[project_id].append(member_id)
    weights: Counter = Counter()
    for member_ids in members_by_project.values():
        for a, b in combinations(sorted(member_ids), 2):
            weights[(a, b)] += 1
    kinds: dict[tuple[int, int], list[str]] = defaultdict(list)
    for rel in relationships_touching(session, organisation_ids=list(members)):
        if rel.organisation_id in members and rel.partner_id in members:
            pair = tuple(sorted((rel.organisation_id, rel.partner_id)))
            kinds[pair].append(rel.kind)
    nodes = [
        {"id": o.external_id, "label": o.short_name or o.name, "name": o.name, "kind": o.kind,
         "country": o.country, "is_centre": o.id == centre.id}
        for o in members.values()
    ]
    edges = [
        {"source": members[a].external_id, "target": members[b].external_id,
         "weight": weights.get((a, b), 0), "relationship_kinds": sorted(kinds.get((a, b), []))}
        for a, b in sorted(set(weights) | set(kinds))
    ]
    return {"nodes": nodes, "edges": edges, "partner_count": total}


# ---------------------------------------------------------------- relationships


def _validated(data: dict) -> RelationshipFields:
    try:
        return RelationshipFields(**data)
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None


def _partner_for(session: Session, *, organisation: Organisation, partner_external_id: str) -> Organisation:
    partner = session.scalar(
        select(Organisation).where(Organisation.external_id == partner_external_id))
    if partner is None:
        raise InvalidInput.for_field("partner", f"no organisation with id {partner_external_id!r}")
    if partner.id == organisation.id:
        raise InvalidInput.for_field("partner", "an organisation cannot be its own partner")
    return partner


def _ensure_no_duplicate(session: Session, *, rel: Relationship) -> None:
    clash = session.scalar(select(Relationship.id).where(
        Relationship.organisation_id == rel.organisation_id,
        Relationship.partner_id == rel.partner_id, Relationship.kind == rel.kind,
        Relationship.id != (rel.id or 0)))
    if clash is not None:
        raise Conflict(f"kind: this relationship is already recorded (id {clash}).",
                       [Problem(f"already recorded as relationship {clash}", field="kind")])


def create_relationship(session: Session, *, data: RelationshipIn, source: str = "manual") -> Relationship:
    """Record a tie between two organisations."""
    organisation = organisations.get_organisation(session, external_id=data.organisation)
    partner = _partner_for(session, organisation=organisation, partner_external_id=data.partner)
    fields = data.model_dump(exclude={"organisation", "partner"})
    rel = Relationship(organisation_id=organisation.id, partner_id=partner.id, source=source, **fields)
    _ensure_no_duplicate(session, rel=rel)
    session.add(rel)
    session.flush()
    return rel


def get_relationship(session: Session, *, relationship_id: int) -> Relationship:
    rel = session.get(Relationship, relationship_id)
    if rel is None:
        raise NotFound(f"No relationship with id {relationship_id}.")
    return rel


def update_relationship(session: Session, *, relationship_id: int, changes: dict) -> Relationship:
    """Change the given fields of a relationship, validated as a whole."""
    rel = get_relationship(session, relationship_id=relationship_id)
    current = {field: getattr(rel, field) for field in RelationshipFields.model_fields}
    data = _validated(current | changes)
    for field, value in data.model_dump().items():
        setattr(rel, field, value)
    _ensure_no_duplicate(session, rel=rel)
    session.flush()
    return rel


def delete_relationship(session: Session, *, relationship_id: int) -> None:
    session.delete(get_relationship(session, relationship_id=relationship_id))
    session.flush()


def list_relationships(session: Session, *, organisation_id: int | None = None) -> list[Relationship]:
    """All relationships, or those an organisation has on either side."""
    if organisation_id is not None:
        return relationships_touching(session, organisation_ids=[organisation_id])
    return list(session.scalars(select(Relationship).order_by(Relationship.id)))


def relationship_view(session: Session, *, relationships: list[Relationship]) -> list[dict]:
    """Relationships with both organisations loaded, shaped like RelationshipOut."""
    ids = [r.organisation_id for r in relationships] + [r.partner_id for r in relationships]
    by_id = organisations.organisations_by_id(session, ids=ids)
    out = []
    for rel in relationships:
        fields = {f: getattr(rel, f) for f in (*RelationshipFields.model_fields, "id", "source",
                                               "created_at", "updated_at")}
        out.append(fields | {"organisation": by_id[rel.organisation_id],
                             "partner": by_id[rel.partner_id]})
    return out


# ---------------------------------------------------------------- bulk writes for importers


def upsert_projects(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Insert new projects and update changed ones, keyed by ``external_id``; (inserted, updated)."""
    return upsert_rows(session, Project.__table__, records, key=("external_id",))


def upsert_participations(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Insert or update participations keyed by (project_id, organisation_id); (inserted, updated)."""
    return upsert_rows(session, Participation.__table__, records,
                       key=("project_id", "organisation_id"))


def upsert_relationships(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Insert or update relationships keyed by (organisation_id, partner_id, kind)."""
    return upsert_rows(session, Relationship.__table__, records,
                       key=("organisation_id", "partner_id", "kind"), timestamps=True)


def match_projects_by_rcn(session: Session, *, records: list[dict]) -> dict[str, str]:
    """Make project records from different sources meet on the CORDIS record number (rcn).

    A project first known as "rcn:N" takes the grant number when a file gives one; a record
    with an rcn already stored under a grant number takes that id. Returns the record ids
    that were replaced (old -> new) and fixes the records in place.
    """
    stored = dict(session.execute(
        select(Project.rcn, Project.external_id).where(Project.rcn.is_not(None))).all())
    replaced = {}
    for record in records:
        rcn, current = record.get("rcn"), stored.get(record.get("rcn"))
        if rcn is None or current is None or current == record["external_id"]:
            continue
        if current.startswith("rcn:"):  # the grant number is the better identifier
            session.execute(update(Project).where(Project.rcn == rcn)
                            .values(external_id=record["external_id"]))
        else:
            replaced[record["external_id"]] = current
            record["external_id"] = current
    return replaced


def update_projects_by_rcn(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Update stored projects matched on ``rcn`` (never inserts); (0, updated)."""
    return upsert_rows(session, Project.__table__, records, key=("rcn",))


def project_ids(session: Session, *, by: str = "external_id") -> dict:
    """Every project's database id keyed by ``external_id`` or ``rcn``."""
    column = getattr(Project, by)
    return dict(session.execute(select(column, Project.id).where(column.is_not(None))).all())


def counts(session: Session) -> dict[str, int]:
    """How many projects, participations and relationships there are."""
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in (("projects", Project), ("participations", Participation),
                            ("relationships", Relationship))
    }


def organisation_detail(session: Session, *, external_id: str, partners_limit: int = 100,
                        projects_limit: int = 100) -> OrganisationDetail:
    """An organisation's profile with its strongest partners, newest projects and relationships."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    partners, partner_count = partners_of(session, organisation_id=organisation.id,
                                          limit=partners_limit)
    projects, project_count = projects_of(session, organisation_id=organisation.id,
                                          limit=projects_limit)
    relationships = list_relationships(session, organisation_id=organisation.id)
    return OrganisationDetail.model_validate(
        {field: getattr(organisation, field) for field in OrganisationOut.model_fields} | {
            "partner_count": partner_count,
            "partners": [{"organisation": p, "shared_projects": n, "relationship_kinds": kinds}
                         for p, n, kinds in partners],
            "project_count": project_count,
            "projects": [{"project": p, "role": part.role, "contribution": part.contribution}
                         for p, part in projects],
            "relationships": relationship_view(session, relationships=relationships),
        })


def project_detail(session: Session, *, external_id: str) -> ProjectDetail:
    """A project with its participants, coordinator first."""
    project = get_project(session, external_id=external_id)
    participants = participants_of(session, project_id=project.id)
    return ProjectDetail.model_validate(
        {field: getattr(project, field) for field in ProjectOut.model_fields} | {
            "participants": [{"organisation": o, "role": p.role, "contribution": p.contribution}
                             for o, p in participants]})
