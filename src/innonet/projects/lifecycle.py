"""A joint project's life: starting it, its parties, people, agreements and exit criteria,
changes, reviews and closing."""

from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.challenges import service as challenges
from innonet.db import insert_once, serialise, utcnow
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound
from innonet.jobs.queue import queue_of
from innonet.organisations import service as organisations
from innonet.projects.access import (
    ITEM_MODELS,
    LESSONS_JOB,
    audit,
    ensure_manager,
    ensure_open,
    get_project,
    organisation_id_of,
    party_id,
    party_ids,
    project_condition,
    record_event,
)
from innonet.projects.models import (
    EVENT_AUDIENCE,
    PARTY_ROLES,
    ExitCriterion,
    JointProject,
    Milestone,
    ProjectAgreement,
    ProjectAudience,
    ProjectEvent,
    ProjectParty,
    ProjectPerson,
    ProjectReview,
)
from innonet.projects.schemas import (
    CloseIn,
    ExitCriterionIn,
    PartyIn,
    PersonIn,
    ProjectFields,
    ProjectIn,
    ProjectPatch,
    ReviewIn,
)
from innonet.roles import Viewer
from innonet.sharing import service as sharing


def _check_foreground(session: Session, project: JointProject, assignee: str | None) -> None:
    if project.foreground_rule == "assignment":
        if assignee is None:
            raise InvalidInput.for_field("assignee", "with the rule 'assignment', name the party that owns the results")
        project.assignee_id = party_id(session, project, assignee, field="assignee")
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


def _tell_parties(session: Session, project: JointProject, organisation_ids: Iterable[int], *, message: str) -> None:
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
        idea_id=data.idea, challenge_id=origin.challenge_id if origin else None,
        evaluation=origin.evaluation if origin else None)
    sharing.add_item(session, viewer, item=project, data=data)
    _add_party(session, project, lead.id, "lead")
    wanted = [(p.organisation, p.role, "parties") for p in data.parties]
    if data.recommended_partner:
        wanted.append((data.recommended_partner, "partner", "recommended_partner"))
    for external_id, role, field in wanted:
        if role == "lead":
            raise InvalidInput.for_field(field, "the lead is the organisation starting the project")
        _add_party(session, project, organisation_id_of(session, external_id, field=field), role)
    for user_id, organisation_id in origin.authors if origin else []:
        _add_party(session, project, organisation_id, "partner")
        session.add(ProjectPerson(project_id=project.id, user_id=user_id, organisation_id=organisation_id,
                                  title="idea author"))
    _check_foreground(session, project, data.assignee)
    _link_agreements(session, viewer, project, data.agreements)
    _set_exit_criteria(session, project, data.exit_criteria)
    record_event(session, viewer, project, kind="created", text=f"started “{project.title}”")
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
        organisation_id = organisation_id_of(session, organisation, field="organisation")
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
    ensure_manager(viewer, project)
    ensure_open(project)
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
    audit(session, viewer, action="update", project=project, detail=f"changed: {', '.join(sorted(given))}")
    record_event(session, viewer, project, kind="changed", text=f"changed {', '.join(sorted(given))}")
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
    ensure_manager(viewer, project)
    for item_type, model in (*ITEM_MODELS.items(), (EVENT_AUDIENCE, ProjectEvent)):
        session.execute(delete(ProjectAudience).where(
            ProjectAudience.item_type == item_type,
            ProjectAudience.item_id.in_(select(model.id).where(model.project_id == project.id))))
    sharing.delete_item(session, viewer, item=project)


def add_party(session: Session, viewer: Viewer, *, project_id: int, data: PartyIn) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_manager(viewer, project)
    ensure_open(project)
    if data.role == "lead":
        raise InvalidInput.for_field("role", "a project has one lead, the organisation that started it")
    organisation = organisations.get_organisation(session, external_id=data.organisation)
    if not _add_party(session, project, organisation.id, data.role):
        raise Conflict(f"{organisation.name} is already a party to this project.")
    record_event(session, viewer, project, kind="party_added",
           text=f"added {organisation.name} as {PARTY_ROLES[data.role].lower()}")
    _tell_parties(session, project, [organisation.id],
                  message=f"Your organisation is now a party to the joint project “{project.title}”.")


def remove_party(session: Session, viewer: Viewer, *, project_id: int, organisation: str) -> None:
    """Remove a party (the lead's administrators, or the party's own leaving): its members,
    guests and people lose access at once; what it recorded stays with the project."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    organisation_id = party_id(session, project, organisation, field="organisation")
    if organisation_id == project.organisation_id:
        raise InvalidInput.for_field("organisation", "the lead cannot leave its own project; delete or close it")
    if not viewer.admin_of(organisation_id):
        ensure_manager(viewer, project)
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
    audit(session, viewer, action="update", project=project, detail=f"party removed: {name}")
    record_event(session, viewer, project, kind="party_removed", text=f"removed {name}")


def add_person(session: Session, viewer: Viewer, *, project_id: int, data: PersonIn) -> None:
    """Name a person on the project for a party they belong to (its admins, or the lead's)."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_open(project)
    organisation_id = party_id(session, project, data.organisation, field="organisation")
    if not viewer.admin_of(organisation_id):
        ensure_manager(viewer, project)
    roles.ensure_can_write(viewer)
    user = accounts.users_by_email(session, emails=[data.email]).get(data.email.casefold())
    if user is None or organisation_id not in accounts.roles_of(session, user_id=user.id):
        raise InvalidInput.for_field("email", "no account of this party's admins, members or guests has this e-mail")
    if not insert_once(session, ProjectPerson(project_id=project.id, user_id=user.id,
                                              organisation_id=organisation_id, title=data.title)):
        raise Conflict(f"{data.email} is already on this project.")
    record_event(session, viewer, project, kind="party_added", text=f"named {user.name or user.email} on the project")
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
        ensure_manager(viewer, project)
    roles.ensure_can_write(viewer)
    session.delete(person)
    record_event(session, viewer, project, kind="party_removed", text="took a person off the project")
    session.flush()


def set_agreements(session: Session, viewer: Viewer, *, project_id: int, agreement_ids: list[int]) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_manager(viewer, project)
    ensure_open(project)
    _link_agreements(session, viewer, project, agreement_ids)
    record_event(session, viewer, project, kind="changed", text="changed the agreements")


def set_exit_criteria(session: Session, viewer: Viewer, *, project_id: int, criteria: list[ExitCriterionIn]) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_manager(viewer, project)
    ensure_open(project)
    _set_exit_criteria(session, project, criteria)
    record_event(session, viewer, project, kind="changed", text="changed the exit criteria")


def decide_review(session: Session, viewer: Viewer, *, project_id: int, data: ReviewIn) -> ProjectReview:
    """Answer the open exit review: continue, change or exit (which closes the project as stopped)."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_manager(viewer, project)
    ensure_open(project)
    serialise(session, f"joint-project:{project.id}")
    review = session.scalar(select(ProjectReview).where(ProjectReview.project_id == project.id,
                                                        ProjectReview.decision.is_(None)))
    if review is None:
        raise Conflict("This project has no open review.")
    review.decision, review.note = data.decision, data.note
    review.decided_by_id, review.decided_at = viewer.user_id, utcnow()
    record_event(session, viewer, project, kind="review_decided", text=f"review: {data.decision}")
    if data.decision == "exit":
        close_project(session, viewer, project_id=project.id, data=CloseIn(
            outcome="stopped", results_summary=None, lessons=data.note))
    session.flush()
    return review


def close_project(session: Session, viewer: Viewer, *, project_id: int, data: CloseIn) -> JointProject:
    """Record the outcome, the results and the lessons learned; the project no longer changes."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_manager(viewer, project)
    serialise(session, f"joint-project:{project.id}")
    session.refresh(project)
    ensure_open(project)
    project.state, project.outcome, project.closed_on = "closed", data.outcome, viewer.today
    project.results_summary, project.lessons = data.results_summary, data.lessons
    session.execute(update(ProjectReview).where(ProjectReview.project_id == project.id,
                                                ProjectReview.decision.is_(None))
                    .values(decision="exit", decided_by_id=viewer.user_id, decided_at=utcnow()))
    audit(session, viewer, action="update", project=project, detail=f"closed: {data.outcome}")
    record_event(session, viewer, project, kind="closed", text=f"closed: {data.outcome}")
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
