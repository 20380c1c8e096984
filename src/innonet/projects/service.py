"""Joint projects: who sees and changes them, their parties and people, items, agreements
and IP register, exit criteria and reviews, closing. Services flush, never commit.

Who reads what (docs/security.md):

- a project is read by the admins and members of each of its parties, by the people named
  on it (a party's guests only that way), and by whoever its visibility lets in
  (``private``: nobody else; ``partners``, ``network``, ``public`` as for any record);
- an item (work package, milestone, risk, decision, background IP, result) is read by
  everyone who reads the project, unless it is *narrowed*: then only by the party that
  recorded it and the parties in its audience;
- the lead's administrators manage the project (parties, agreements, exit criteria,
  reviews, closing); the members of every party and the people on it add and change items.

Everything that lists or counts projects or items filters with :func:`project_condition`
and :func:`item_condition`.
"""

from collections import defaultdict
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, delete, exists, insert, or_, select, true, update
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.challenges import service as challenges
from innonet.db import insert_once, rows_changed, serialise, utcnow
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound
from innonet.jobs.queue import queue_of
from innonet.matching import service as matching
from innonet.organisations import service as organisations
from innonet.projects.models import (
    EVENT_AUDIENCE,
    FOREGROUND_MEANINGS,
    ITEM_TYPES,
    MILESTONE_STATUSES,
    PARTY_ROLES,
    PROJECT_KPIS,
    BackgroundIp,
    CalendarFeed,
    Decision,
    ExitCriterion,
    JointProject,
    Milestone,
    ProjectAgreement,
    ProjectAudience,
    ProjectEvent,
    ProjectParty,
    ProjectPerson,
    ProjectResult,
    ProjectReview,
    ResultOwner,
    Risk,
    WorkPackage,
    WorkPackageParty,
)
from innonet.projects.schemas import (
    ITEM_INPUTS,
    CloseIn,
    ExitCriterionIn,
    ItemFields,
    PartyIn,
    PersonIn,
    ProjectFields,
    ProjectIn,
    ProjectPatch,
    ReviewIn,
)
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing
from innonet.text import LAST_YEAR

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

# ---------------------------------------------------------------- who reads what


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


def _acting_condition(viewer: Viewer, organisation_column, project_column) -> ColumnElement[bool]:
    """``organisation_column`` is one of the organisations the viewer acts for in the
    project ``project_column``: those they are a member of, or the one they are named on
    *that* project for (a guest on one project acts for nobody on another)."""
    allowed = []
    if mine := sorted(viewer.member_of):
        allowed.append(organisation_column.in_(mine))
    if viewer.user_id is not None:
        # Correlated with the rows outside (the item or event), however deeply it is nested.
        allowed.append(exists().where(ProjectPerson.project_id == project_column,
                                      ProjectPerson.user_id == viewer.user_id,
                                      ProjectPerson.organisation_id == organisation_column)
                       .correlate_except(ProjectPerson))
    return or_(*allowed) if allowed else ~true()


def _narrowed_condition(viewer: Viewer, *, narrowed, recorder, audience_type, audience_id,
                        project) -> ColumnElement[bool]:
    """Not narrowed, or narrowed and the viewer acts for the recording party or one in
    the audience (rows of ``audience_type`` and ``audience_id``)."""
    audience = exists().where(ProjectAudience.item_type == audience_type, ProjectAudience.item_id == audience_id,
                              _acting_condition(viewer, ProjectAudience.organisation_id, project))
    return or_(narrowed.is_(False), _acting_condition(viewer, recorder, project), audience)


def item_condition(viewer: Viewer, model) -> ColumnElement[bool]:
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


def _audit(session: Session, viewer: Viewer, *, action: str, project: JointProject, detail: str | None = None) -> None:
    sharing.record_events(session, viewer, action=action, detail=detail, events=[
        (project.organisation_id, project.share_type, project.id)]
        if action != "read" or project.visibility != "public" else [])


def get_project(session: Session, viewer: Viewer, *, project_id: int, log: bool = True) -> JointProject:
    """A project the viewer may read (NotFound otherwise, as if it did not exist)."""
    project = session.scalar(select(JointProject).where(JointProject.id == project_id, project_condition(viewer)))
    if project is None:
        raise NotFound(f"No joint project with id {project_id}.")
    if log:
        _audit(session, viewer, action="read", project=project)
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


def _ensure_manager(viewer: Viewer, project: JointProject) -> None:
    roles.ensure_insider(viewer, project.organisation_id, admin=True)


def _ensure_open(project: JointProject) -> None:
    if project.state == "closed":
        raise Conflict(f"The project “{project.title}” is closed; it can no longer change.")


def _contributor(session: Session, viewer: Viewer, project: JointProject, wanted: str | None = None) -> int:
    """The party a contribution is recorded for: the one named, else the viewer's first."""
    roles.ensure_can_write(viewer)
    acting = acting_for(session, viewer, project) if not viewer.is_operator else \
        sorted(party_ids(session, project_id=project.id))
    if not acting:
        raise Forbidden("Only the parties' members and the people on the project may change it.")
    if wanted is None:
        return acting[0]
    organisation_id = _party_id(session, project, wanted, field="organisation")
    if organisation_id not in acting:
        raise InvalidInput.for_field("organisation", "you do not act for this party")
    return organisation_id


def ensure_contributor(session: Session, viewer: Viewer, *, project_id: int) -> None:
    """Refuse (as :func:`add_item` would) a viewer who may not add or change items."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_open(project)
    _contributor(session, viewer, project)


def _touch(session: Session, viewer: Viewer, project: JointProject, *, kind: str, text: str,
           item=None, seen_by: frozenset[int] | None = None) -> None:
    """Log what happened in the project and note the activity (the inactivity criterion reads
    it). An event about an ``item`` seen only by some parties (``seen_by``, see
    :func:`_audience_of`) keeps that audience."""
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


def _audience_of(session: Session, item) -> frozenset[int] | None:
    """The parties that see a narrowed item (the recording one too); None: all who read the project."""
    if not item.narrowed:
        return None
    return frozenset(session.scalars(select(ProjectAudience.organisation_id).where(
        ProjectAudience.item_type == item.item_type, ProjectAudience.item_id == item.id))) | {item.organisation_id}


def _both(before: frozenset[int] | None, after: frozenset[int] | None) -> frozenset[int] | None:
    """Who saw the item both before and after a change (None stands for everyone)."""
    if before is None or after is None:
        return after if before is None else before
    return before & after


def _name_of(session: Session, viewer: Viewer) -> str:
    if viewer.user_id is None:
        return viewer.actor
    return accounts.display_name(session, user_id=viewer.user_id) or viewer.actor


# ---------------------------------------------------------------- references to parties


def _organisation_id(session: Session, external_id: str, *, field: str) -> int:
    found = organisations.ids_by_external_id(session, external_ids=[external_id])
    if external_id not in found:
        raise InvalidInput.for_field(field, f"no organisation with id {external_id[:64]!r}")
    return found[external_id]


def _party_id(session: Session, project: JointProject, external_id: str, *, field: str) -> int:
    organisation_id = _organisation_id(session, external_id, field=field)
    if organisation_id not in party_ids(session, project_id=project.id):
        raise InvalidInput.for_field(field, f"{external_id[:64]!r} is not a party to this project")
    return organisation_id


def _party_list(session: Session, project: JointProject, external_ids: list[str], *, field: str) -> list[int]:
    return list(dict.fromkeys(_party_id(session, project, e, field=field) for e in external_ids))


# ---------------------------------------------------------------- projects


def _check_foreground(session: Session, project: JointProject, assignee: str | None) -> None:
    if project.foreground_rule == "assignment":
        if assignee is None:
            raise InvalidInput.for_field("assignee", "with the rule 'assignment', name the party that owns the results")
        project.assignee_id = _party_id(session, project, assignee, field="assignee")
    elif assignee is not None:
        raise InvalidInput.for_field("assignee", "an assignee applies only with the rule 'assignment'")
    else:
        project.assignee_id = None


def _link_agreements(session: Session, viewer: Viewer, project: JointProject, agreement_ids: list[int]) -> None:
    for agreement_id in dict.fromkeys(agreement_ids):
        # One message whether it is missing, unreadable or without the lead: none tells which.
        if project.organisation_id not in sharing.readable_agreement_parties(session, viewer,
                                                                             agreement_id=agreement_id):
            raise InvalidInput.for_field("agreements", f"no agreement {agreement_id} that you may read "
                                                       "and that the lead is party to")
    session.execute(delete(ProjectAgreement).where(ProjectAgreement.project_id == project.id))
    if agreement_ids:
        session.execute(insert(ProjectAgreement), [{"project_id": project.id, "agreement_id": a}
                                                   for a in dict.fromkeys(agreement_ids)])


def _set_exit_criteria(session: Session, project: JointProject, criteria: list[ExitCriterionIn]) -> None:
    session.execute(delete(ExitCriterion).where(ExitCriterion.project_id == project.id))
    if criteria:
        session.execute(insert(ExitCriterion), [
            {"project_id": project.id, "kind": c.kind, "days": c.days, "kpi": c.kpi, "threshold": c.threshold,
             "state": "unchecked"} for c in criteria])


def _add_party(session: Session, project: JointProject, organisation_id: int, role: str) -> bool:
    return insert_once(session, ProjectParty(project_id=project.id, organisation_id=organisation_id, role=role))


def _tell_parties(session: Session, project: JointProject, organisation_ids, *, message: str) -> None:
    accounts.notify(session, organisation_ids=organisation_ids, kind="project", message=message,
                    link=f"/joint-projects/{project.id}")


def create_project(session: Session, viewer: Viewer, *, data: ProjectIn) -> JointProject:
    """Start a joint project led by one of the viewer's organisations, from scratch, an idea
    or a partner recommendation."""
    lead = organisations.get_organisation(session, external_id=data.organisation)
    roles.ensure_insider(viewer, lead.id)
    origin = challenges.project_origin(session, viewer, idea_id=data.idea) if data.idea is not None else None
    if origin is not None:
        serialise(session, f"idea-project:{data.idea}")
        if taken := session.scalar(select(JointProject.id).where(JointProject.idea_id == data.idea)):
            raise Conflict(f"Idea {data.idea} already became joint project {taken}.")
    project = JointProject(
        organisation_id=lead.id, title=data.title, summary=data.summary, start_date=data.start_date,
        end_date=data.end_date, foreground_rule=data.foreground_rule, created_by_id=viewer.user_id,
        origin="idea" if origin else "recommendation" if data.recommended_partner else "scratch",
        idea_id=data.idea, challenge_id=origin["challenge_id"] if origin else None,
        evaluation=origin["evaluation"] if origin else None)
    sharing.add_item(session, viewer, item=project, data=data)
    _add_party(session, project, lead.id, "lead")
    wanted = [(p.organisation, p.role, "parties") for p in data.parties]
    if data.recommended_partner:
        wanted.append((data.recommended_partner, "partner", "recommended_partner"))
    for external_id, role, field in wanted:
        if role == "lead":
            raise InvalidInput.for_field(field, "the lead is the organisation starting the project")
        _add_party(session, project, _organisation_id(session, external_id, field=field), role)
    for user_id, organisation_id in origin["authors"] if origin else []:
        _add_party(session, project, organisation_id, "partner")
        session.add(ProjectPerson(project_id=project.id, user_id=user_id, organisation_id=organisation_id,
                                  title="idea author"))
    _check_foreground(session, project, data.assignee)
    _link_agreements(session, viewer, project, data.agreements)
    _set_exit_criteria(session, project, data.exit_criteria)
    _touch(session, viewer, project, kind="created", text=f"started “{project.title}”")
    others = [o for o in party_ids(session, project_id=project.id) if o != lead.id]
    _tell_parties(session, project, others, message=f"{lead.name} started the joint project “{project.title}” "
                                                    "with your organisation as a party.")
    session.flush()
    return project


def list_projects_by_id(session: Session, viewer: Viewer, *, ids: list[int]) -> list[JointProject]:
    """Those of these projects the viewer may read."""
    return list(session.scalars(select(JointProject).where(JointProject.id.in_(ids), project_condition(viewer))))


def idea_title(session: Session, viewer: Viewer, *, idea_id: int) -> str:
    return challenges.get_idea(session, viewer, idea_id=idea_id, log=False).title


def may_start_from_idea(session: Session, viewer: Viewer, *, idea_id: int) -> bool:
    """Whether the viewer may start a project from this idea now (selected, not started yet)."""
    if not viewer.can_write:
        return False
    try:
        with session.begin_nested():
            challenges.project_origin(session, viewer, idea_id=idea_id)
    except (InvalidInput, Forbidden, NotFound):
        return False
    return not session.scalar(select(exists().where(JointProject.idea_id == idea_id)))


def list_projects(session: Session, viewer: Viewer, *, organisation: str | None = None, state: str | None = None,
                  idea: int | None = None) -> list[JointProject]:
    """Projects the viewer may read, running ones first, newest first."""
    query = select(JointProject).where(project_condition(viewer))
    if organisation is not None:
        organisation_id = _organisation_id(session, organisation, field="organisation")
        query = query.where(JointProject.id.in_(select(ProjectParty.project_id).where(
            ProjectParty.organisation_id == organisation_id)))
    if state is not None:
        query = query.where(JointProject.state == state)
    if idea is not None:
        query = query.where(JointProject.idea_id == idea)
    return list(session.scalars(query.order_by(JointProject.state, JointProject.start_date.desc(),
                                               JointProject.id.desc()).limit(500)))


def update_project(session: Session, viewer: Viewer, *, project_id: int, changes: ProjectPatch) -> JointProject:
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_manager(viewer, project)
    _ensure_open(project)
    given = changes.model_dump(exclude_unset=True)
    current = {name: getattr(project, name) for name in ProjectFields.model_fields if name != "assignee"}
    try:
        fields = ProjectFields.model_validate(current | {k: v for k, v in given.items()
                                                         if k in ProjectFields.model_fields and k != "assignee"})
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None
    for name in ("title", "summary", "start_date", "end_date", "foreground_rule"):
        setattr(project, name, getattr(fields, name))
    if "foreground_rule" in given or "assignee" in given:
        assignee = given.get("assignee")
        if assignee is None and project.foreground_rule == "assignment" and project.assignee_id:
            assignee = organisations.organisations_by_id(session, ids=[project.assignee_id])[
                project.assignee_id].external_id
        _check_foreground(session, project, assignee)
    _check_milestones_after_start(session, project)
    sharing.change_sharing(session, viewer, item=project, changes=given)
    _audit(session, viewer, action="update", project=project, detail=f"changed: {', '.join(sorted(given))}")
    _touch(session, viewer, project, kind="changed", text=f"changed {', '.join(sorted(given))}")
    session.flush()
    return project


def _check_milestones_after_start(session: Session, project: JointProject) -> None:
    early = session.scalar(select(Milestone.title).where(Milestone.project_id == project.id,
                                                         Milestone.due_on < project.start_date).limit(1))
    if early is not None:
        raise InvalidInput.for_field("start_date", f"the milestone “{early}” is due before this start date")


def delete_project(session: Session, viewer: Viewer, *, project_id: int) -> None:
    """Delete a project and everything in it (the lead's administrators)."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_manager(viewer, project)
    for item_type, model in (*ITEM_MODELS.items(), (EVENT_AUDIENCE, ProjectEvent)):
        session.execute(delete(ProjectAudience).where(
            ProjectAudience.item_type == item_type,
            ProjectAudience.item_id.in_(select(model.id).where(model.project_id == project.id))))
    sharing.delete_item(session, viewer, item=project)


# ---------------------------------------------------------------- parties and people


def add_party(session: Session, viewer: Viewer, *, project_id: int, data: PartyIn) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_manager(viewer, project)
    _ensure_open(project)
    if data.role == "lead":
        raise InvalidInput.for_field("role", "a project has one lead, the organisation that started it")
    organisation = organisations.get_organisation(session, external_id=data.organisation)
    if not _add_party(session, project, organisation.id, data.role):
        raise Conflict(f"{organisation.name} is already a party to this project.")
    _touch(session, viewer, project, kind="party_added",
           text=f"added {organisation.name} as {PARTY_ROLES[data.role].lower()}")
    _tell_parties(session, project, [organisation.id],
                  message=f"Your organisation is now a party to the joint project “{project.title}”.")


def remove_party(session: Session, viewer: Viewer, *, project_id: int, organisation: str) -> None:
    """Remove a party (the lead's administrators, or the party's own leaving): its members,
    guests and people lose access at once; what it recorded stays with the project."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    organisation_id = _party_id(session, project, organisation, field="organisation")
    if organisation_id == project.organisation_id:
        raise InvalidInput.for_field("organisation", "the lead cannot leave its own project; delete or close it")
    if not viewer.admin_of(organisation_id):
        _ensure_manager(viewer, project)
    roles.ensure_can_write(viewer)
    session.execute(delete(ProjectParty).where(ProjectParty.project_id == project.id,
                                               ProjectParty.organisation_id == organisation_id))
    session.execute(delete(ProjectPerson).where(ProjectPerson.project_id == project.id,
                                                ProjectPerson.organisation_id == organisation_id))
    for item_type, model in (*ITEM_MODELS.items(), (EVENT_AUDIENCE, ProjectEvent)):
        session.execute(delete(ProjectAudience).where(
            ProjectAudience.item_type == item_type, ProjectAudience.organisation_id == organisation_id,
            ProjectAudience.item_id.in_(select(model.id).where(model.project_id == project.id))))
    name = organisations.organisations_by_id(session, ids=[organisation_id])[organisation_id].name
    _audit(session, viewer, action="update", project=project, detail=f"party removed: {name}")
    _touch(session, viewer, project, kind="party_removed", text=f"removed {name}")


def add_person(session: Session, viewer: Viewer, *, project_id: int, data: PersonIn) -> None:
    """Name a person on the project for a party they belong to (its admins, or the lead's)."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_open(project)
    organisation_id = _party_id(session, project, data.organisation, field="organisation")
    if not viewer.admin_of(organisation_id):
        _ensure_manager(viewer, project)
    roles.ensure_can_write(viewer)
    user = accounts.users_by_email(session, emails=[data.email]).get(data.email.casefold())
    if user is None or organisation_id not in accounts.roles_of(session, user_id=user.id):
        raise InvalidInput.for_field("email", "no account of this party's admins, members or guests has this e-mail")
    if not insert_once(session, ProjectPerson(project_id=project.id, user_id=user.id,
                                              organisation_id=organisation_id, title=data.title)):
        raise Conflict(f"{data.email} is already on this project.")
    _touch(session, viewer, project, kind="party_added", text=f"named {user.name or user.email} on the project")
    accounts.notify_people(session, user_ids=[user.id], kind="project", link=f"/joint-projects/{project.id}",
                           message=f"You are now on the joint project “{project.title}”.")
    session.flush()


def remove_person(session: Session, viewer: Viewer, *, project_id: int, user_id: int) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    person = session.scalar(select(ProjectPerson).where(ProjectPerson.project_id == project.id,
                                                        ProjectPerson.user_id == user_id))
    if person is None:
        raise NotFound(f"No person with id {user_id} on this project.")
    if viewer.user_id != user_id and not viewer.admin_of(person.organisation_id):
        _ensure_manager(viewer, project)
    roles.ensure_can_write(viewer)
    session.delete(person)
    _touch(session, viewer, project, kind="party_removed", text="took a person off the project")
    session.flush()


def set_agreements(session: Session, viewer: Viewer, *, project_id: int, agreement_ids: list[int]) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_manager(viewer, project)
    _ensure_open(project)
    _link_agreements(session, viewer, project, agreement_ids)
    _touch(session, viewer, project, kind="changed", text="changed the agreements")


def set_exit_criteria(session: Session, viewer: Viewer, *, project_id: int, criteria: list[ExitCriterionIn]) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_manager(viewer, project)
    _ensure_open(project)
    _set_exit_criteria(session, project, criteria)
    _touch(session, viewer, project, kind="changed", text="changed the exit criteria")


# ---------------------------------------------------------------- items


def _item_input(item_type: str, values: dict) -> ItemFields:
    try:
        return ITEM_INPUTS[item_type].model_validate(values)
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None


def _set_audience(session: Session, project: JointProject, item, audience: list[str]) -> None:
    ids = [o for o in _party_list(session, project, audience, field="audience") if o != item.organisation_id]
    item.narrowed = bool(audience)
    session.execute(delete(ProjectAudience).where(ProjectAudience.item_type == item.item_type,
                                                  ProjectAudience.item_id == item.id))
    if ids:
        session.execute(insert(ProjectAudience), [{"item_type": item.item_type, "item_id": item.id,
                                                   "organisation_id": o} for o in ids])


def _apply_item(session: Session, project: JointProject, item, data) -> None:
    """Set an item's fields from its input, checking what refers to parties and dates."""
    for name in ITEM_COLUMNS[item.item_type]:
        setattr(item, name, getattr(data, name))
    if isinstance(item, WorkPackage):
        if not data.responsible:
            raise InvalidInput.for_field("responsible", "name at least one responsible party")
        item.accountable_id = _party_id(session, project, data.accountable, field="accountable") \
            if data.accountable else project.organisation_id
        if item.end_date and item.start_date and item.end_date < item.start_date:
            raise InvalidInput.for_field("end_date", "the work package ends before it starts")
        if item.start_date and item.start_date < project.start_date:
            raise InvalidInput.for_field("start_date", f"the project starts on {project.start_date}")
        rows = [(o, letter) for letter, refs in (("R", data.responsible), ("C", data.consulted), ("I", data.informed))
                for o in _party_list(session, project, refs, field={"R": "responsible", "C": "consulted",
                                                                     "I": "informed"}[letter])]
        session.flush()
        session.execute(delete(WorkPackageParty).where(WorkPackageParty.work_package_id == item.id))
        session.execute(insert(WorkPackageParty), [{"work_package_id": item.id, "organisation_id": o, "raci": r}
                                                   for o, r in rows])
    elif isinstance(item, Milestone):
        if item.due_on < project.start_date:
            raise InvalidInput.for_field("due_on", f"it is due before the project starts ({project.start_date})")
        item.owner_id = _party_id(session, project, data.owner, field="owner") if data.owner else item.organisation_id
        item.owner_user_id = _person_id(session, project, data.owner_person) if data.owner_person else None
        if data.work_package is not None:
            if not session.scalar(select(exists().where(WorkPackage.id == data.work_package,
                                                        WorkPackage.project_id == project.id))):
                raise InvalidInput.for_field("work_package", f"no work package with id {data.work_package} here")
        item.work_package_id = data.work_package
        if item.status == "done" and item.done_on is None:
            item.done_on = date.today()
        if item.status != "done":
            item.done_on = None
        if item.planned_on is None:
            item.planned_on = item.due_on
    elif isinstance(item, Risk):
        item.owner_id = _party_id(session, project, data.owner, field="owner") if data.owner else None
    elif isinstance(item, ProjectResult):
        item.rule = project.foreground_rule
        owners = _result_owners(session, project, item, data.owners)
        session.flush()
        session.execute(delete(ResultOwner).where(ResultOwner.result_id == item.id))
        session.execute(insert(ResultOwner), [{"result_id": item.id, "organisation_id": o} for o in owners])
    session.flush()
    _set_audience(session, project, item, data.audience)


def _person_id(session: Session, project: JointProject, email: str) -> int:
    user = accounts.users_by_email(session, emails=[email]).get(email.casefold())
    if user is None or not session.scalar(select(exists().where(ProjectPerson.project_id == project.id,
                                                                ProjectPerson.user_id == user.id))):
        raise InvalidInput.for_field("owner_person", "name a person who is on the project")
    return user.id


def _result_owners(session: Session, project: JointProject, item: ProjectResult, owners: list[str]) -> list[int]:
    """Who owns a result under the project's foreground rule."""
    ids = _party_list(session, project, owners, field="owners")
    if project.foreground_rule == "assignment":
        if ids and ids != [project.assignee_id]:
            raise InvalidInput.for_field("owners", "under assignment the assignee owns every result")
        return [project.assignee_id] if project.assignee_id else []
    if project.foreground_rule == "creator":
        if len(ids) > 1:
            raise InvalidInput.for_field("owners", "owner by creator: name the one party that made it")
        return ids or [item.organisation_id]
    if len(ids) < 2:
        raise InvalidInput.for_field("owners", "joint ownership: name the two or more parties that made it")
    return ids


def add_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, data: ItemFields):
    """Record a work package, milestone, risk, decision, background IP or result."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_open(project)
    organisation_id = _contributor(session, viewer, project, data.organisation)
    item = ITEM_MODELS[item_type](project_id=project.id, organisation_id=organisation_id,
                                  created_by_id=viewer.user_id)
    session.add(item)
    with session.no_autoflush:  # the item is complete only once its references are resolved
        _apply_item(session, project, item, data)
    _touch(session, viewer, project, kind="item_added", text=f"{ITEM_TYPES[item_type].lower()} “{item.title}”",
           item=item, seen_by=_audience_of(session, item))
    return item


def get_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, item_id: int):
    model = ITEM_MODELS[item_type]
    item = session.scalar(select(model).where(model.id == item_id, model.project_id == project_id,
                                              item_condition(viewer, model)))
    if item is None:
        raise NotFound(f"No {ITEM_TYPES[item_type].lower()} with id {item_id} in this project.")
    return item


def update_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, item_id: int,
                changes: dict):
    """Change an item: the given fields, the rest as they were."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_open(project)
    item = get_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id)
    _contributor(session, viewer, project)
    current = item_values(session, items={item_type: [item]})[item_type][item.id]
    data = _item_input(item_type, current | {k: v for k, v in changes.items() if k != "organisation"})
    if set(data.audience) != set(current["audience"]) and not viewer.is_operator \
            and item.organisation_id not in acting_for(session, viewer, project):
        raise Forbidden("Only the party that recorded this item changes who sees it.")
    before_due, seen_before = getattr(item, "due_on", None), _audience_of(session, item)
    with session.no_autoflush:
        _apply_item(session, project, item, data)
    changed = sorted(k for k, v in data.model_dump(include=set(current)).items() if current[k] != v)
    text = f"{ITEM_TYPES[item_type].lower()} “{item.title}”: changed {', '.join(changed) or 'nothing'}"
    if isinstance(item, Milestone) and before_due and item.due_on != before_due:
        text = f"{ITEM_TYPES[item_type].lower()} “{item.title}” moved from {before_due} to {item.due_on}"
    _touch(session, viewer, project, kind="item_changed", text=text, item=item,
           seen_by=_both(seen_before, _audience_of(session, item)))
    return item


def delete_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, item_id: int) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_open(project)
    item = get_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id)
    _contributor(session, viewer, project)
    seen_by = _audience_of(session, item)
    session.execute(delete(ProjectAudience).where(ProjectAudience.item_type == item_type,
                                                  ProjectAudience.item_id == item.id))
    _touch(session, viewer, project, kind="item_deleted", text=f"{ITEM_TYPES[item_type].lower()} “{item.title}”",
           item=item, seen_by=seen_by)
    session.delete(item)
    session.flush()


def item_values(session: Session, *, items: dict[str, list]) -> dict[str, dict[int, dict]]:
    """Item type -> item id -> the item's input fields as they stand (organisations by external id)."""
    audiences: dict[tuple[str, int], list[int]] = defaultdict(list)
    raci: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    owners: dict[int, list[int]] = defaultdict(list)
    for item_type, found in items.items():
        for item_id, organisation_id in session.execute(select(ProjectAudience.item_id, ProjectAudience.organisation_id)
                                                        .where(ProjectAudience.item_type == item_type,
                                                               ProjectAudience.item_id.in_([i.id for i in found]))):
            audiences[item_type, item_id].append(organisation_id)
    for wp, organisation_id, letter in session.execute(select(
            WorkPackageParty.work_package_id, WorkPackageParty.organisation_id, WorkPackageParty.raci).where(
            WorkPackageParty.work_package_id.in_([i.id for i in items.get("work_package", [])]))):
        raci[wp][letter].append(organisation_id)
    for result_id, organisation_id in session.execute(select(ResultOwner.result_id, ResultOwner.organisation_id).where(
            ResultOwner.result_id.in_([i.id for i in items.get("result", [])]))):
        owners[result_id].append(organisation_id)
    ids = {getattr(i, c) for found in items.values() for i in found
           for c in ("organisation_id", "accountable_id", "owner_id") if getattr(i, c, None)}
    ids |= {o for v in audiences.values() for o in v} | {o for v in raci.values() for x in v.values() for o in x}
    ids |= {o for v in owners.values() for o in v}
    external = {i: o.external_id for i, o in organisations.organisations_by_id(session, ids=ids).items()}
    people = accounts.people_by_id(session, ids=[i.owner_user_id for i in items.get("milestone", [])
                                                 if i.owner_user_id])
    out: dict[str, dict[int, dict]] = {}
    for item_type, found in items.items():
        out[item_type] = {}
        for item in found:
            values = {name: getattr(item, name) for name in ITEM_COLUMNS[item_type]}
            values["audience"] = [external[o] for o in audiences[item_type, item.id]] + (
                [external[item.organisation_id]] if item.narrowed else [])
            if isinstance(item, WorkPackage):
                values |= {"accountable": external[item.accountable_id],
                           "responsible": [external[o] for o in raci[item.id]["R"]],
                           "consulted": [external[o] for o in raci[item.id]["C"]],
                           "informed": [external[o] for o in raci[item.id]["I"]]}
            elif isinstance(item, Milestone):
                values |= {"owner": external[item.owner_id], "work_package": item.work_package_id,
                           "owner_person": people[item.owner_user_id][1] if item.owner_user_id in people else None}
            elif isinstance(item, Risk):
                values["owner"] = external[item.owner_id] if item.owner_id else None
            elif isinstance(item, ProjectResult):
                values["owners"] = [external[o] for o in owners[item.id]]
            out[item_type][item.id] = values
    return out


def visible_items(session: Session, viewer: Viewer, *, project: JointProject) -> dict[str, list]:
    """Item type -> the project's items the viewer may read, in a useful order."""
    order = {"work_package": (WorkPackage.code, WorkPackage.id), "milestone": (Milestone.due_on, Milestone.id),
             "risk": (Risk.status.desc(), Risk.id), "decision": (Decision.decided_on.desc(), Decision.id),
             "background_ip": (BackgroundIp.organisation_id, BackgroundIp.id),
             "result": (ProjectResult.id,)}
    return {item_type: list(session.scalars(select(model).where(
        model.project_id == project.id, item_condition(viewer, model)).order_by(*order[item_type])))
        for item_type, model in ITEM_MODELS.items()}


# ---------------------------------------------------------------- reviews and closing


def decide_review(session: Session, viewer: Viewer, *, project_id: int, data: ReviewIn) -> ProjectReview:
    """Answer the open exit review: continue, change or exit (which closes the project as stopped)."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_manager(viewer, project)
    _ensure_open(project)
    serialise(session, f"joint-project:{project.id}")
    review = session.scalar(select(ProjectReview).where(ProjectReview.project_id == project.id,
                                                        ProjectReview.decision.is_(None)))
    if review is None:
        raise Conflict("This project has no open review.")
    review.decision, review.note = data.decision, data.note
    review.decided_by_id, review.decided_at = viewer.user_id, utcnow()
    _touch(session, viewer, project, kind="review_decided", text=f"review: {data.decision}")
    if data.decision == "exit":
        close_project(session, viewer, project_id=project.id, data=CloseIn(
            outcome="stopped", results_summary=None, lessons=data.note))
    session.flush()
    return review


def close_project(session: Session, viewer: Viewer, *, project_id: int, data: CloseIn) -> JointProject:
    """Record the outcome, the results and the lessons learned; the project no longer changes."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    _ensure_manager(viewer, project)
    serialise(session, f"joint-project:{project.id}")
    session.refresh(project)
    _ensure_open(project)
    project.state, project.outcome, project.closed_on = "closed", data.outcome, viewer.today
    project.results_summary, project.lessons = data.results_summary, data.lessons
    session.execute(update(ProjectReview).where(ProjectReview.project_id == project.id,
                                                ProjectReview.decision.is_(None))
                    .values(decision="exit", decided_by_id=viewer.user_id, decided_at=utcnow()))
    _audit(session, viewer, action="update", project=project, detail=f"closed: {data.outcome}")
    _touch(session, viewer, project, kind="closed", text=f"closed: {data.outcome}")
    _tell_parties(session, project, [o for o in party_ids(session, project_id=project.id)
                                     if o != project.organisation_id],
                  message=f"The joint project “{project.title}” was closed ({data.outcome}).")
    if data.lessons and (queue := queue_of(session)) is not None:  # they become knowledge items
        queue.submit_after_commit(session, LESSONS_JOB, {"project": project.id}, user_id=viewer.user_id,
                                  organisation_id=project.organisation_id)
    session.flush()
    return project


def lessons_of(text: str | None) -> list[str]:
    """The lessons in a closing note: one per paragraph."""
    return [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]


# ---------------------------------------------------------------- the page and the API


def late_items(milestones: list[Milestone], today: date) -> list[tuple[Milestone, int]]:
    """(milestone, days late) for the planned ones past their due date, latest first."""
    late = [(m, (today - m.due_on).days) for m in milestones if m.status == "planned" and m.due_on < today]
    return sorted(late, key=lambda pair: -pair[1])


def project_view(session: Session, viewer: Viewer, *, project: JointProject) -> dict:
    """One project shaped like ProjectOut, with only what the viewer may read."""
    parties = session.execute(select(ProjectParty.organisation_id, ProjectParty.role).where(
        ProjectParty.project_id == project.id).order_by(ProjectParty.id)).all()
    people = session.execute(select(ProjectPerson).where(ProjectPerson.project_id == project.id)
                             .order_by(ProjectPerson.id)).scalars().all()
    items = visible_items(session, viewer, project=project)
    values = item_values(session, items=items)
    ids = {o for o, _ in parties} | {project.organisation_id} | {p.organisation_id for p in people}
    ids |= {project.assignee_id} if project.assignee_id else set()
    names = accounts.people_by_id(session, ids=[p.user_id for p in people])
    for found in items.values():
        ids |= {i.organisation_id for i in found}
    by_id = organisations.organisations_by_id(session, ids=ids)
    by_external = {o.external_id: o for o in by_id.values()}
    agreements = agreements_of(session, viewer, project_id=project.id)
    reviews = session.scalars(select(ProjectReview).where(ProjectReview.project_id == project.id)
                              .order_by(ProjectReview.raised_at.desc())).all()
    deciders = accounts.people_by_id(session, ids=[r.decided_by_id for r in reviews if r.decided_by_id])
    criteria = session.scalars(select(ExitCriterion).where(ExitCriterion.project_id == project.id)
                               .order_by(ExitCriterion.id)).all()
    acting = acting_for(session, viewer, project)
    return sharing.sharing_view(session, viewer, items=[project])[project.id] | {
        "id": project.id, "title": project.title, "summary": project.summary,
        "organisation": by_id[project.organisation_id], "state": project.state, "origin": project.origin,
        "start_date": project.start_date, "end_date": project.end_date, "idea": project.idea_id,
        "challenge": project.challenge_id, "evaluation": project.evaluation,
        "foreground_rule": project.foreground_rule, "foreground_meaning": FOREGROUND_MEANINGS[project.foreground_rule],
        "assignee": by_id.get(project.assignee_id) if project.assignee_id else None,
        "parties": [{"organisation": by_id[o], "role": role, "country": by_id[o].country} for o, role in parties],
        "people": [{"user_id": p.user_id, "name": names[p.user_id][0] or names[p.user_id][1],
                    "organisation": by_id[p.organisation_id], "title": p.title} for p in people if p.user_id in names],
        "agreements": agreements,
        "items": {item_type: [{
            "id": i.id, "type": item_type, "organisation": by_id[i.organisation_id],
            "audience": [by_external[e] for e in values[item_type][i.id]["audience"] if e in by_external]
            if i.narrowed else None,
            "fields": {k: v for k, v in values[item_type][i.id].items() if k != "audience"},
            "created_at": i.created_at, "updated_at": i.updated_at} for i in found]
            for item_type, found in items.items()},
        "exit_criteria": [{"id": c.id, "kind": c.kind, "description": criterion_words(c), "days": c.days,
                           "kpi": c.kpi, "threshold": c.threshold, "state": c.state, "evidence": c.evidence,
                           "checked_at": c.checked_at} for c in criteria],
        "reviews": [{"id": r.id, "raised_at": r.raised_at, "evidence": r.evidence, "decision": r.decision,
                     "note": r.note, "decided_at": r.decided_at,
                     "decided_by": (deciders[r.decided_by_id][0] or deciders[r.decided_by_id][1])
                     if r.decided_by_id in deciders else None} for r in reviews],
        "review_open": any(r.decision is None for r in reviews),
        "outcome": project.outcome, "closed_on": project.closed_on, "results_summary": project.results_summary,
        "lessons": project.lessons, "last_activity_at": project.last_activity_at,
        "may_manage": may_manage(viewer, project) and project.state != "closed",
        "may_contribute": viewer.can_write and bool(acting or viewer.is_operator) and project.state != "closed",
        "created_at": project.created_at,
    }


def criterion_words(criterion: ExitCriterion) -> str:
    if criterion.kind == "milestone_late":
        return f"A milestone or deliverable is more than {criterion.days} days late"
    if criterion.kind == "inactive":
        return f"Nothing happens in the project for {criterion.days} days"
    if criterion.kind == "agreement_expiring":
        return f"A linked agreement ends within {criterion.days} days, or is no longer in force"
    return f"{PROJECT_KPIS[criterion.kpi or '']} below {criterion.threshold:g} %"


def agreements_of(session: Session, viewer: Viewer, *, project_id: int) -> list[dict]:
    ids = list(session.scalars(select(ProjectAgreement.agreement_id).where(ProjectAgreement.project_id == project_id)
                               .order_by(ProjectAgreement.id)))
    return sharing.agreement_summaries(session, viewer, ids=ids)


def summaries(session: Session, viewer: Viewer, *, projects: list[JointProject]) -> list[dict]:
    """Projects shaped like ProjectSummary."""
    ids = [p.id for p in projects]
    counts: dict[int, int] = defaultdict(int)
    for project_id in session.scalars(select(ProjectParty.project_id).where(ProjectParty.project_id.in_(ids))):
        counts[project_id] += 1
    open_reviews = set(session.scalars(select(ProjectReview.project_id).where(
        ProjectReview.project_id.in_(ids), ProjectReview.decision.is_(None))))
    by_id = organisations.organisations_by_id(session, ids=[p.organisation_id for p in projects])
    return [{"id": p.id, "title": p.title, "organisation": by_id[p.organisation_id], "state": p.state,
             "start_date": p.start_date, "end_date": p.end_date, "parties": counts[p.id],
             "review_open": p.id in open_reviews, "outcome": p.outcome} for p in projects]


def events_of(session: Session, viewer: Viewer, *, project: JointProject, limit: int = 100) -> list[ProjectEvent]:
    """The project's activity, newest first, leaving out events about items the viewer did
    not see when they happened."""
    return list(session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                                           event_condition(viewer))
                                .order_by(ProjectEvent.at.desc(), ProjectEvent.id.desc()).limit(limit)))



# ---------------------------------------------------------------- timeline


def _ticks(start: date, end: date) -> list[date]:
    """Month starts between the dates; every third (quarters) or twelfth (years) when there are many."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):  # never a month past the last date (9999-12 has none)
        if date(year, month, 1) >= start:
            months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    step = 1 if len(months) <= 12 else 3 if len(months) <= 36 else 12
    return [m for m in months if (m.month - 1) % step == 0] if step > 1 else months


def timeline(project: JointProject, *, work_packages: list[WorkPackage], milestones: list[Milestone],
             today: date) -> dict:
    """Where each work package's bar and each milestone's mark go on a time axis from the
    project's start to its end (or its last date), in percent of the axis."""
    dates = [project.start_date, project.end_date or project.start_date, today]
    dates += [d for wp in work_packages for d in (wp.start_date, wp.end_date) if d]
    dates += [m.due_on for m in milestones] + [m.planned_on for m in milestones]
    start, end = project.start_date, max(dates)
    span = max((end - start).days, 1)

    def at(day: date) -> float:
        return round(100 * min(max((day - start).days, 0), span) / span, 2)

    bars = []
    for wp in work_packages:
        first, last = wp.start_date or start, wp.end_date or project.end_date or end
        bars.append({"id": wp.id, "label": f"{wp.code} · {wp.title}", "start": first, "end": last,
                     "left": at(first), "width": max(at(last) - at(first), 1.0)})
    late = dict(late_items(milestones, today))
    marks = [{"id": m.id, "label": m.title, "kind": m.kind, "due_on": m.due_on, "at": at(m.due_on),
              "planned_on": m.planned_on, "slipped_days": (m.due_on - m.planned_on).days,
              "status": m.status, "late_days": late.get(m)} for m in milestones]
    return {"start": start, "end": end, "bars": bars, "marks": marks,
            "ticks": [{"date": d, "at": at(d)} for d in _ticks(start, end)],
            "today": at(today) if start <= today <= end else None}


def export_project(session: Session, viewer: Viewer, *, project_id: int) -> dict:
    """The project as plain data (for ``innonet projects export``), with its activity log."""
    from innonet.projects.schemas import EventOut, ProjectOut

    project = get_project(session, viewer, project_id=project_id, log=False)
    view = ProjectOut.model_validate(project_view(session, viewer, project=project)).model_dump(mode="json")
    events = [EventOut.model_validate(e, from_attributes=True).model_dump(mode="json")
              for e in events_of(session, viewer, project=project, limit=10_000)]
    sharing.record_events(session, viewer, action="export", events=[(project.organisation_id, project.share_type,
                                                                     project.id)])
    return view | {"activity": events}


# ---------------------------------------------------------------- calendar feeds


def create_calendar_feed(session: Session, viewer: Viewer) -> str:
    """A new secret calendar address for the viewer (the old one stops working); returns
    the token, shown once: only its digest is kept."""
    roles.ensure_signed_in(viewer)
    if viewer.user_id is None:
        raise Forbidden("A calendar belongs to a person; sign in.")
    token, token_digest = accounts.new_secret("cal_")
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == viewer.user_id))
    session.add(CalendarFeed(user_id=viewer.user_id, token_digest=token_digest))
    session.flush()
    return token


def revoke_calendar_feed(session: Session, viewer: Viewer) -> bool:
    roles.ensure_signed_in(viewer)
    return bool(rows_changed(session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == viewer.user_id))))


def has_calendar_feed(session: Session, viewer: Viewer) -> bool:
    return viewer.user_id is not None and bool(session.scalar(select(exists().where(
        CalendarFeed.user_id == viewer.user_id))))


def calendar_owner(session: Session, *, token: str) -> int:
    """The person whose calendar this token opens (NotFound for an unknown or revoked one)."""
    user_id = session.scalar(select(CalendarFeed.user_id).where(CalendarFeed.token_digest == accounts.digest(token)))
    if user_id is None:
        raise NotFound("No calendar at this address: it was replaced or revoked.")
    return user_id


def calendar_entries(session: Session, viewer: Viewer) -> list[tuple[Milestone, JointProject]]:
    """The person's milestones and deliverables: those they deliver, and those their
    organisations deliver, in running projects they may read (narrowed items only for
    their audience)."""
    mine = [Milestone.owner_user_id == viewer.user_id]
    if viewer.member_of:
        mine.append(Milestone.owner_id.in_(sorted(viewer.member_of)))
    return [(m, p) for m, p in session.execute(
        select(Milestone, JointProject).join(JointProject, JointProject.id == Milestone.project_id)
        .where(or_(*mine), item_condition(viewer, Milestone), JointProject.state == "active",
               Milestone.due_on <= date(LAST_YEAR, 12, 31))  # a date stored before dates were bounded
        .order_by(Milestone.due_on, Milestone.id).limit(2000)).all()]


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def _ics_line(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545, 3.1)."""
    data = line.encode()
    out: list[str] = []
    while len(data) > 75:
        cut = 75 if not out else 74
        while (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
            cut -= 1
        out.append(data[:cut].decode())
        data = data[cut:]
    out.append(data.decode())
    return "\r\n ".join(out)


def calendar_ics(entries: list[tuple[Milestone, JointProject]], *, base_url: str) -> str:
    """An iCalendar document with one all-day event per milestone or deliverable."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//innonet//joint projects//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:innonet milestones"]
    for m, p in entries:
        day = m.due_on
        kind = "Deliverable" if m.kind == "deliverable" else "Milestone"
        page = f"{base_url}/joint-projects/{p.id}"
        status = "CANCELLED" if m.status == "cancelled" else "CONFIRMED"
        lines += ["BEGIN:VEVENT", f"UID:milestone-{m.id}@innonet", f"DTSTAMP:{stamp}",
                  f"LAST-MODIFIED:{m.updated_at.strftime('%Y%m%dT%H%M%SZ')}",
                  f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
                  f"DTEND;VALUE=DATE:{date.fromordinal(day.toordinal() + 1).strftime('%Y%m%d')}",
                  f"SUMMARY:{_ics_text(f'{kind}: {m.title} ({p.title})')}",
                  f"DESCRIPTION:{_ics_text(f'{MILESTONE_STATUSES[m.status]}. {page}#milestones')}",
                  f"URL:{page}", f"STATUS:{status}",
                  "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_ics_line(line) for line in lines) + "\r\n"


# ---------------------------------------------------------------- cultural briefing


def briefing(session: Session, viewer: Viewer, *, project: JointProject) -> dict:
    """The parties' countries compared pair by pair on Hofstede's dimensions, with what a
    cross-border team should agree on explicitly (national averages, never a judgement of people)."""
    parties = organisations.organisations_by_id(session, ids=list(party_ids(session, project_id=project.id)))
    by_country: dict[str, list[str]] = defaultdict(list)
    for organisation in sorted(parties.values(), key=lambda o: o.name):
        if organisation.country:
            by_country[organisation.country].append(organisation.name)
    found = matching.cultural_briefing(list(by_country))
    return found | {"parties_by_country": dict(by_country),
                    "without_country": sorted(o.name for o in parties.values() if not o.country)}
