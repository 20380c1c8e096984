"""Projects, participations and relationships: the links of the collaboration graph.

The graph: organisations are linked by shared projects (weight = number of projects they
share) and by relationships that a person or an import recorded.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import combinations

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from innonet import roles
from innonet.collaborations.models import (
    RELATIONSHIP_KINDS,
    SEARCHED_PROJECT_COLUMNS,
    Participation,
    Project,
    Relationship,
)
from innonet.collaborations.schemas import (
    ClusterSummary,
    CountryRelationships,
    EgoEdge,
    EgoNetwork,
    EgoNode,
    OrganisationDetail,
    ProjectDetail,
    ProjectOut,
    RelationshipFields,
    RelationshipIn,
    RelationshipOut,
)
from innonet.db import Page, read_page, upsert_rows
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.organisations.schemas import OrganisationOut
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing

# ---------------------------------------------------------------- projects


def search_projects(session: Session, *, q: str | None = None, page: int = 1,
                    per_page: int = 25) -> Page:
    """One page of projects matching the text, newest first, and how many match."""
    text = q.strip() if q else ""
    conditions = [organisations.matches_text(Project, SEARCHED_PROJECT_COLUMNS, text)] if text else []
    return read_page(session, select(Project).where(*conditions)
                     .order_by(Project.start_date.desc().nulls_last(), Project.id),
                     page=page, per_page=per_page,
                     count_limit=organisations.SEARCH_COUNT_LIMIT if text else None)


# The words of a project that find its participants in the directory.
PROJECT_WORDS = ("acronym", "title", "topic")


def _projects_with(word: str) -> Select:
    return select(Participation.organisation_id).join(Project, Project.id == Participation.project_id) \
        .where(organisations.matches_text(Project, PROJECT_WORDS, word))


def search_directory(session: Session, *, q: str | None = None, country: str | None = None,
                     kind: str | None = None, sme: bool | None = None, page: int = 1,
                     per_page: int = 25) -> tuple[Page, dict[int, tuple[str, str]]]:
    """The directory's search: each word in the organisation's name, id, city, VAT or
    description, or in the title of one of its projects. Also says, for each organisation
    found whose name does not hold every word, where the words were found (a label and
    the text)."""
    found = organisations.search_organisations(
        session, q=q, country=country, kind=kind, sme=sme, page=page, per_page=per_page,
        found_elsewhere=lambda word: Organisation.id.in_(_projects_with(word)))
    words = organisations.search_words(q)
    where: dict[int, tuple[str, str]] = {}
    if not words:
        return found, where
    folded = [w.lower() for w in words]

    def holds(text: str | None) -> bool:
        return text is not None and any(w in text.lower() for w in folded)

    missing = []
    for o in found.items:
        if all(w in f"{o.name} {o.short_name or ''}".lower() for w in folded):
            continue
        for label, value in (("City", o.city), ("Id", o.external_id), ("VAT", o.vat),
                             ("Description", o.description)):
            if holds(value):
                where[o.id] = (label, value)
                break
        else:
            missing.append(o.id)
    if missing:  # one query for the page: a project of each with one of the words
        rows = session.execute(
            select(Participation.organisation_id, Project.acronym, Project.title)
            .join(Project, Project.id == Participation.project_id)
            .where(Participation.organisation_id.in_(missing),
                   or_(*(organisations.matches_text(Project, PROJECT_WORDS, w) for w in words)))
            .order_by(Project.start_date.desc().nulls_last())).all()
        for organisation_id, acronym, title in rows:
            where.setdefault(organisation_id, ("Project", " – ".join(filter(None, (acronym, title)))))
    return found, where


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


def project_partners(session: Session, *, organisation_id: int
                     ) -> list[tuple[Project, Participation, Organisation, Participation]]:
    """(project, the organisation's part, a partner, the partner's part) for each partner in
    each of the organisation's projects, in one query."""
    mine, theirs = aliased(Participation), aliased(Participation)
    rows = session.execute(
        select(Project, mine, Organisation, theirs)
        .join(mine, mine.project_id == Project.id)
        .join(theirs, (theirs.project_id == Project.id) & (theirs.organisation_id != organisation_id))
        .join(Organisation, Organisation.id == theirs.organisation_id)
        .where(mine.organisation_id == organisation_id)
        .order_by(Project.start_date.desc().nulls_last(), Project.id, Organisation.name)
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


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


def are_partners(session: Session, viewer: Viewer, one: int, other: int) -> bool:
    """Whether two organisations share a project or a relationship the viewer may see."""
    mine, theirs = aliased(Participation), aliased(Participation)
    if session.scalar(select(mine.project_id).join(theirs, mine.project_id == theirs.project_id)
                      .where(mine.organisation_id == one, theirs.organisation_id == other).limit(1)):
        return True
    return session.scalar(select(Relationship.id).where(
        or_((Relationship.organisation_id == one) & (Relationship.partner_id == other),
            (Relationship.organisation_id == other) & (Relationship.partner_id == one)),
        policy.visible_condition(viewer, Relationship)).limit(1)) is not None


def relationships_touching(session: Session, viewer: Viewer, *,
                           organisation_ids: Iterable[int]) -> list[Relationship]:
    """The relationships the viewer may see that have one of these organisations on either side.

    Every read of relationships goes through here (or :func:`get_relationship`), so the
    access policy and the audit log apply to all of them.
    """
    ids = list(organisation_ids)
    rels = list(session.scalars(
        select(Relationship)
        .where(or_(Relationship.organisation_id.in_(ids), Relationship.partner_id.in_(ids)),
               policy.visible_condition(viewer, Relationship))
        .order_by(Relationship.id)
    ))
    sharing.record(session, viewer, action="read", items=rels)
    return rels


def partners_of(
    session: Session, viewer: Viewer, *, organisation_id: int, limit: int | None = None,
    relationships: list[Relationship] | None = None,
) -> tuple[list[tuple[Organisation, int, list[str]]], int]:
    """(partner, shared projects, relationship kinds), strongest first, and the total count.

    Shared projects are public; relationships count only where the viewer may see them.
    """
    shared = shared_project_counts(session, organisation_id=organisation_id)
    kinds: dict[int, list[str]] = defaultdict(list)
    if relationships is None:
        relationships = relationships_touching(session, viewer, organisation_ids=[organisation_id])
    for rel in relationships:
        other = rel.partner_id if rel.organisation_id == organisation_id else rel.organisation_id
        kinds[other].append(rel.kind)
    partner_ids = set(shared) | set(kinds)
    ranked = sorted(partner_ids, key=lambda pid: (-shared[pid], -len(kinds[pid]), pid))
    chosen = ranked[:limit] if limit is not None else ranked
    by_id = organisations.organisations_by_id(session, ids=chosen)
    return [(by_id[pid], shared[pid], sorted(kinds[pid])) for pid in chosen], len(partner_ids)


def ego_network(session: Session, viewer: Viewer, *, organisation_id: int, size: int = 40) -> EgoNetwork:
    """The organisation, its ``size`` strongest partners and the links among all of them; a
    link's weight is the number of shared projects, plus the kinds of any recorded relationships."""
    partners, total = partners_of(session, viewer, organisation_id=organisation_id, limit=size)
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
    for rel in relationships_touching(session, viewer, organisation_ids=list(members)):
        if rel.organisation_id in members and rel.partner_id in members:
            pair = (min(rel.organisation_id, rel.partner_id), max(rel.organisation_id, rel.partner_id))
            kinds[pair].append(rel.kind)
    nodes = [EgoNode(id=o.external_id, label=o.short_name or o.name, name=o.name, kind=o.kind, country=o.country,
                     is_centre=o.id == centre.id) for o in members.values()]
    edges = [EgoEdge(source=members[a].external_id, target=members[b].external_id, weight=weights.get((a, b), 0),
                     relationship_kinds=sorted(kinds.get((a, b), [])))
             for a, b in sorted(set(weights) | set(kinds))]
    return EgoNetwork(nodes=nodes, edges=edges, partner_count=total)


# ---------------------------------------------------------------- relationships


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


def create_relationship(session: Session, viewer: Viewer, *, data: RelationshipIn,
                        source: str = "manual") -> Relationship:
    """Record a tie between two organisations (the organisation's members may)."""
    organisation = organisations.get_organisation(session, external_id=data.organisation)
    roles.ensure_insider(viewer, organisation.id)
    partner = _partner_for(session, organisation=organisation, partner_external_id=data.partner)
    fields = data.model_dump(include=set(RelationshipFields.model_fields))
    rel = Relationship(organisation_id=organisation.id, partner_id=partner.id, source=source, **fields)
    _ensure_no_duplicate(session, rel=rel)
    sharing.add_item(session, viewer, item=rel, data=data)
    return rel


def get_relationship(session: Session, viewer: Viewer, *, relationship_id: int,
                     for_change: bool = False) -> Relationship:
    """A relationship the viewer may see (NotFound otherwise, as if it did not exist)."""
    return sharing.get_visible(session, viewer, Relationship, relationship_id,
                               label="relationship", for_change=for_change)


def update_relationship(session: Session, viewer: Viewer, *, relationship_id: int,
                        changes: dict) -> Relationship:
    """Change the given fields (and sharing) of a relationship, validated as a whole."""
    rel = get_relationship(session, viewer, relationship_id=relationship_id, for_change=True)
    data = sharing.changed_fields(rel, RelationshipFields, changes)
    for field, value in data.model_dump().items():
        setattr(rel, field, value)
    _ensure_no_duplicate(session, rel=rel)
    sharing.change_sharing(session, viewer, item=rel, changes=changes)
    session.flush()
    sharing.record(session, viewer, action="update", items=[rel])
    return rel


def delete_relationship(session: Session, viewer: Viewer, *, relationship_id: int) -> None:
    rel = get_relationship(session, viewer, relationship_id=relationship_id, for_change=True)
    sharing.delete_item(session, viewer, item=rel)


def list_relationships(session: Session, viewer: Viewer, *,
                       organisation_id: int | None = None) -> list[Relationship]:
    """The relationships the viewer may see: all, or those an organisation has on either side."""
    if organisation_id is not None:
        return relationships_touching(session, viewer, organisation_ids=[organisation_id])
    rels = list(session.scalars(select(Relationship)
                                .where(policy.visible_condition(viewer, Relationship))
                                .order_by(Relationship.id)))
    sharing.record(session, viewer, action="read", items=rels)
    return rels


def relationship_view(session: Session, viewer: Viewer, *,
                      relationships: list[Relationship]) -> list[RelationshipOut]:
    """Relationships with both organisations and who sees them."""
    ids = [r.organisation_id for r in relationships] + [r.partner_id for r in relationships]
    by_id = organisations.organisations_by_id(session, ids=ids)
    shares = sharing.sharing_view(session, viewer, items=relationships)
    out = []
    for rel in relationships:
        fields = {f: getattr(rel, f) for f in (*RelationshipFields.model_fields, "id", "source",
                                               "created_at", "updated_at")}
        out.append(RelationshipOut.model_validate(fields | dict(shares[rel.id]) | {
            "organisation": by_id[rel.organisation_id], "partner": by_id[rel.partner_id]}))
    return out


# ---------------------------------------------------------------- bulk writes for importers


def upsert_projects(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Insert new projects and update changed ones, keyed by ``external_id``; (inserted, updated)."""
    return upsert_rows(session, Project, records, key=("external_id",))


def upsert_participations(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Insert or update participations keyed by (project_id, organisation_id); (inserted, updated)."""
    return upsert_rows(session, Participation, records,
                       key=("project_id", "organisation_id"))


def upsert_relationships(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Insert or update relationships keyed by (organisation_id, partner_id, kind)."""
    return upsert_rows(session, Relationship, records,
                       key=("organisation_id", "partner_id", "kind"), timestamps=True)


def replace_relationship_shares(session: Session, *, shares: dict[tuple[int, int, str], list[int]]) -> None:
    """Set whom imported relationships, keyed by (organisation, partner, kind), are shared with."""
    if not shares:
        return
    owners = {owner for owner, _, _ in shares}
    ids = {(o, p, k): i for i, o, p, k in session.execute(
        select(Relationship.id, Relationship.organisation_id, Relationship.partner_id, Relationship.kind)
        .where(Relationship.organisation_id.in_(owners)))}
    sharing.replace_shares(session, model=Relationship,
                           shares={ids[key]: organisation_ids for key, organisation_ids in shares.items()})


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
    return upsert_rows(session, Project, records, key=("rcn",))


def project_ids(session: Session, *, by: str = "external_id") -> dict:
    """Every project's database id keyed by ``external_id`` or ``rcn``."""
    column = getattr(Project, by)
    return dict(session.execute(select(column, Project.id).where(column.is_not(None))).all())


def counts(session: Session, viewer: Viewer) -> dict[str, int]:
    """How many projects, participations and (visible) relationships there are."""
    return {
        "projects": session.scalar(select(func.count()).select_from(Project)) or 0,
        "participations": session.scalar(select(func.count()).select_from(Participation)) or 0,
        "relationships": session.scalar(select(func.count()).select_from(Relationship).where(
            policy.visible_condition(viewer, Relationship))) or 0,
    }


def cluster_summary(session: Session, viewer: Viewer) -> ClusterSummary:
    """Aggregates of the consenting organisations' networks, for the cluster manager.

    Counts only: no record, partner name or note of a consenting organisation is shown,
    and organisations that did not consent appear nowhere.
    """
    roles.ensure_signed_in(viewer)
    if not viewer.is_cluster_manager:
        raise Forbidden("Only cluster managers see the cluster's aggregates.")
    consenting = select(Organisation.id).where(Organisation.cluster_consent_at.is_not(None))
    members = session.scalar(select(func.count()).where(Organisation.id.in_(consenting))) or 0
    counted = and_(Relationship.organisation_id.in_(consenting),
                   policy.analytics_condition(viewer, Relationship))
    by_kind = dict(session.execute(select(Relationship.kind, func.count()).where(counted)
                                   .group_by(Relationship.kind)).all())
    partner = aliased(Organisation)
    by_country = session.execute(
        select(partner.country, func.count()).select_from(Relationship)
        .join(partner, partner.id == Relationship.partner_id)
        .where(counted, partner.country.is_not(None)).group_by(partner.country)
        .order_by(func.count().desc(), partner.country)).all()
    return ClusterSummary(consenting_organisations=members, relationships=sum(by_kind.values()),
                          relationships_by_kind={k: by_kind.get(k, 0) for k in RELATIONSHIP_KINDS},
                          partner_countries=[CountryRelationships(country=c, relationships=n) for c, n in by_country])


def organisation_detail(session: Session, viewer: Viewer, *, external_id: str,
                        partners_limit: int = 100, projects_limit: int = 100) -> OrganisationDetail:
    """An organisation's profile with its strongest partners, newest projects and the
    relationships the viewer may see."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    relationships = list_relationships(session, viewer, organisation_id=organisation.id)
    partners, partner_count = partners_of(session, viewer, organisation_id=organisation.id,
                                          limit=partners_limit, relationships=relationships)
    projects, project_count = projects_of(session, organisation_id=organisation.id,
                                          limit=projects_limit)
    return OrganisationDetail.model_validate(
        {field: getattr(organisation, field) for field in OrganisationOut.model_fields} | {
            "partner_count": partner_count,
            "partners": [{"organisation": p, "shared_projects": n, "relationship_kinds": kinds}
                         for p, n, kinds in partners],
            "project_count": project_count,
            "projects": [{"project": p, "role": part.role, "contribution": part.contribution}
                         for p, part in projects],
            "relationships": relationship_view(session, viewer, relationships=relationships),
        })


def project_detail(session: Session, *, external_id: str) -> ProjectDetail:
    """A project with its participants, coordinator first."""
    project = get_project(session, external_id=external_id)
    participants = participants_of(session, project_id=project.id)
    return ProjectDetail.model_validate(
        {field: getattr(project, field) for field in ProjectOut.model_fields} | {
            "participants": [{"organisation": o, "role": p.role, "contribution": p.contribution}
                             for o, p in participants]})
