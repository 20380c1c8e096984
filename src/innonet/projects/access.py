"""Who reads and changes a joint project and its items (docs/security.md), the kinds of
item, and the activity log every change writes."""

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, insert, or_, select, true, update
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.db import utcnow
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound
from innonet.organisations import service as organisations
from innonet.projects.models import (
    EVENT_AUDIENCE,
    BackgroundIp,
    Decision,
    JointProject,
    Milestone,
    ProjectAudience,
    ProjectEvent,
    ProjectItem,
    ProjectParty,
    ProjectPerson,
    ProjectResult,
    Risk,
    WorkPackage,
)
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing

# The knowledge base's job that turns a closed project's lessons into knowledge items.
LESSONS_JOB = "knowledge.lessons"


ITEM_MODELS: dict[str, Any] = {"work_package": WorkPackage, "milestone": Milestone, "risk": Risk, "decision": Decision,
               "background_ip": BackgroundIp, "result": ProjectResult}


# Plain columns each item's input sets as they are (references to parties are resolved apart).
ITEM_COLUMNS = {
    "work_package": ("code", "title", "description", "start_date", "end_date"),
    "milestone": ("kind", "title", "description", "due_on", "status", "done_on"),
    "risk": ("title", "description", "likelihood", "impact", "mitigation", "status"),
    "decision": ("title", "decided_on", "rationale", "decided_by"),
    "background_ip": ("title", "description", "terms"),
    "result": ("title", "description"),
}


def project_condition(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition true for the joint projects the viewer may read."""
    if viewer.is_operator:
        return true()
    allowed = [policy.visible_condition(viewer, JointProject)]
    if mine := sorted(viewer.member_of):
        allowed.append(exists().where(ProjectParty.project_id == JointProject.id,
                                      ProjectParty.organisation_id.in_(mine)))
    if viewer.user_id is not None:
        allowed.append(exists().where(ProjectPerson.project_id == JointProject.id,
                                      ProjectPerson.user_id == viewer.user_id))
    return or_(*allowed)


def _acting_condition(viewer: Viewer, organisation_column: SQLColumnExpression[int | None],
                      project_column: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """``organisation_column`` is one of the organisations the viewer acts for in the
    project ``project_column``: those they are a member of, or the one they are named on
    *that* project for (a guest on one project acts for nobody on another)."""
    allowed: list[ColumnElement[bool]] = []
    if mine := sorted(viewer.member_of):
        allowed.append(organisation_column.in_(mine))
    if viewer.user_id is not None:
        # Correlated with the rows outside (the item or event), however deeply it is nested.
        allowed.append(exists().where(ProjectPerson.project_id == project_column,
                                      ProjectPerson.user_id == viewer.user_id,
                                      ProjectPerson.organisation_id == organisation_column)
                       .correlate_except(ProjectPerson))
    return or_(*allowed) if allowed else ~true()


def _narrowed_condition(viewer: Viewer, *, narrowed: SQLColumnExpression[bool],
                        recorder: SQLColumnExpression[int | None], audience_type: SQLColumnExpression[str] | str,
                        audience_id: SQLColumnExpression[int],
                        project: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """Not narrowed, or narrowed and the viewer acts for the recording party or one in
    the audience (rows of ``audience_type`` and ``audience_id``)."""
    audience = exists().where(ProjectAudience.item_type == audience_type, ProjectAudience.item_id == audience_id,
                              _acting_condition(viewer, ProjectAudience.organisation_id, project))
    return or_(narrowed.is_(False), _acting_condition(viewer, recorder, project), audience)


def item_condition(viewer: Viewer, model: type[ProjectItem]) -> ColumnElement[bool]:
    """SQL condition true for the items of ``model`` the viewer may read, in projects the
    viewer may read."""
    readable = model.project_id.in_(select(JointProject.id).where(project_condition(viewer)))
    if viewer.is_operator:
        return true()
    return and_(readable, _narrowed_condition(viewer, narrowed=model.narrowed, recorder=model.organisation_id,
                                              audience_type=model.item_type, audience_id=model.id,
                                              project=model.project_id))


def event_condition(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition true for the activity events the viewer may read (in projects they read):
    an event about a narrowed item as the item's audience was when it happened."""
    if viewer.is_operator:
        return true()
    return _narrowed_condition(viewer, narrowed=ProjectEvent.narrowed, recorder=ProjectEvent.organisation_id,
                               audience_type=EVENT_AUDIENCE, audience_id=ProjectEvent.id,
                               project=ProjectEvent.project_id)


def audit(session: Session, viewer: Viewer, *, action: str, project: JointProject, detail: str | None = None) -> None:
    sharing.record_events(session, viewer, action=action, detail=detail, events=[
        (project.organisation_id, project.share_type, project.id)]
        if action != "read" or project.visibility != "public" else [])


def get_project(session: Session, viewer: Viewer, *, project_id: int, log: bool = True) -> JointProject:
    """A project the viewer may read (NotFound otherwise, as if it did not exist)."""
    project = session.scalar(select(JointProject).where(JointProject.id == project_id, project_condition(viewer)))
    if project is None:
        raise NotFound(f"No joint project with id {project_id}.")
    if log:
        audit(session, viewer, action="read", project=project)
    return project


def party_ids(session: Session, *, project_id: int) -> dict[int, str]:
    """Organisation id -> role, for the project's parties."""
    return dict(session.execute(select(ProjectParty.organisation_id, ProjectParty.role).where(
        ProjectParty.project_id == project_id)).all())


def acting_for(session: Session, viewer: Viewer, project: JointProject) -> list[int]:
    """The parties the viewer acts for in this project, the lead first."""
    parties = party_ids(session, project_id=project.id)
    mine = {o for o in parties if o in viewer.member_of}
    if viewer.user_id is not None:
        mine |= set(session.scalars(select(ProjectPerson.organisation_id).where(
            ProjectPerson.project_id == project.id, ProjectPerson.user_id == viewer.user_id)))
    return sorted(mine & set(parties), key=lambda o: (o != project.organisation_id, o))


def may_manage(viewer: Viewer, project: JointProject) -> bool:
    return viewer.can_write and viewer.admin_of(project.organisation_id)


def ensure_manager(viewer: Viewer, project: JointProject) -> None:
    roles.ensure_insider(viewer, project.organisation_id, admin=True)


def ensure_open(project: JointProject) -> None:
    if project.state == "closed":
        raise Conflict(f"The project “{project.title}” is closed; it can no longer change.")


def contributing_party(session: Session, viewer: Viewer, project: JointProject, wanted: str | None = None) -> int:
    """The party a contribution is recorded for: the one named, else the viewer's first."""
    roles.ensure_can_write(viewer)
    acting = acting_for(session, viewer, project) if not viewer.is_operator else \
        sorted(party_ids(session, project_id=project.id))
    if not acting:
        raise Forbidden("Only the parties' members and the people on the project may change it.")
    if wanted is None:
        return acting[0]
    organisation_id = party_id(session, project, wanted, field="organisation")
    if organisation_id not in acting:
        raise InvalidInput.for_field("organisation", "you do not act for this party")
    return organisation_id


def ensure_contributor(session: Session, viewer: Viewer, *, project_id: int) -> None:
    """Refuse (as :func:`add_item` would) a viewer who may not add or change items."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_open(project)
    contributing_party(session, viewer, project)


def record_event(session: Session, viewer: Viewer, project: JointProject, *, kind: str, text: str,
           item: ProjectItem | None = None, seen_by: frozenset[int] | None = None) -> None:
    """Log what happened in the project and note the activity (the inactivity criterion reads
    it). An event about an ``item`` seen only by some parties (``seen_by``, see
    :func:`audience_of`) keeps that audience."""
    now = utcnow()
    event = ProjectEvent(project_id=project.id, at=now, user_id=viewer.user_id, actor=_name_of(session, viewer),
                         kind=kind, text=text[:500], item_type=item.item_type if item else None,
                         item_id=item.id if item else None, narrowed=seen_by is not None,
                         organisation_id=item.organisation_id if item else None)
    session.add(event)
    session.flush()
    if audience := sorted((seen_by or frozenset()) - {event.organisation_id}):
        session.execute(insert(ProjectAudience), [{"item_type": EVENT_AUDIENCE, "item_id": event.id,
                                                   "organisation_id": o} for o in audience])
    session.execute(update(JointProject).where(JointProject.id == project.id).values(last_activity_at=now))


def audience_of(session: Session, item: ProjectItem) -> frozenset[int] | None:
    """The parties that see a narrowed item (the recording one too); None: all who read the project."""
    if not item.narrowed:
        return None
    return frozenset(session.scalars(select(ProjectAudience.organisation_id).where(
        ProjectAudience.item_type == item.item_type, ProjectAudience.item_id == item.id))) | {item.organisation_id}


def audience_before_and_after(before: frozenset[int] | None, after: frozenset[int] | None) -> frozenset[int] | None:
    """Who saw the item both before and after a change (None stands for everyone)."""
    if before is None or after is None:
        return after if before is None else before
    return before & after


def _name_of(session: Session, viewer: Viewer) -> str:
    if viewer.user_id is None:
        return viewer.actor
    return accounts.display_name(session, user_id=viewer.user_id) or viewer.actor


def organisation_id_of(session: Session, external_id: str, *, field: str) -> int:
    found = organisations.ids_by_external_id(session, external_ids=[external_id])
    if external_id not in found:
        raise InvalidInput.for_field(field, f"no organisation with id {external_id[:64]!r}")
    return found[external_id]


def party_id(session: Session, project: JointProject, external_id: str, *, field: str) -> int:
    organisation_id = organisation_id_of(session, external_id, field=field)
    if organisation_id not in party_ids(session, project_id=project.id):
        raise InvalidInput.for_field(field, f"{external_id[:64]!r} is not a party to this project")
    return organisation_id


def party_list(session: Session, project: JointProject, external_ids: list[str], *, field: str) -> list[int]:
    return list(dict.fromkeys(party_id(session, project, e, field=field) for e in external_ids))
