"""The items of a project (work packages, milestones, risks, decisions, background IP,
results), and the audience of a narrowed one."""

from collections import defaultdict
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, exists, insert, select
from sqlalchemy.orm import Session

from innonet.accounts import service as accounts
from innonet.errors import Forbidden, InvalidInput, NotFound
from innonet.organisations import service as organisations
from innonet.projects.access import (
    ITEM_COLUMNS,
    ITEM_MODELS,
    acting_for,
    audience_before_and_after,
    audience_of,
    contributing_party,
    ensure_open,
    get_project,
    item_condition,
    party_id,
    party_list,
    record_event,
)
from innonet.projects.models import (
    ITEM_TYPES,
    BackgroundIp,
    Decision,
    JointProject,
    Milestone,
    ProjectAudience,
    ProjectItem,
    ProjectPerson,
    ProjectResult,
    ResultOwner,
    Risk,
    WorkPackage,
    WorkPackageParty,
)
from innonet.projects.schemas import (
    ITEM_INPUTS,
    ItemFields,
)
from innonet.roles import Viewer


def _item_input(item_type: str, values: dict) -> ItemFields:
    try:
        return ITEM_INPUTS[item_type].model_validate(values)
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None


def _set_audience(session: Session, project: JointProject, item: ProjectItem, audience: list[str]) -> None:
    ids = [o for o in party_list(session, project, audience, field="audience") if o != item.organisation_id]
    item.narrowed = bool(audience)
    session.execute(delete(ProjectAudience).where(ProjectAudience.item_type == item.item_type,
                                                  ProjectAudience.item_id == item.id))
    if ids:
        session.execute(insert(ProjectAudience), [{"item_type": item.item_type, "item_id": item.id,
                                                   "organisation_id": o} for o in ids])


def _apply_item(session: Session, project: JointProject, item: ProjectItem, data: Any) -> None:
    """Set an item's fields from its input, checking what refers to parties and dates."""
    for name in ITEM_COLUMNS[item.item_type]:
        setattr(item, name, getattr(data, name))
    if isinstance(item, WorkPackage):
        if not data.responsible:
            raise InvalidInput.for_field("responsible", "name at least one responsible party")
        item.accountable_id = party_id(session, project, data.accountable, field="accountable") \
            if data.accountable else project.organisation_id
        if item.end_date and item.start_date and item.end_date < item.start_date:
            raise InvalidInput.for_field("end_date", "the work package ends before it starts")
        if item.start_date and item.start_date < project.start_date:
            raise InvalidInput.for_field("start_date", f"the project starts on {project.start_date}")
        rows = [(o, letter) for letter, refs in (("R", data.responsible), ("C", data.consulted), ("I", data.informed))
                for o in party_list(session, project, refs, field={"R": "responsible", "C": "consulted",
                                                                     "I": "informed"}[letter])]
        session.flush()
        session.execute(delete(WorkPackageParty).where(WorkPackageParty.work_package_id == item.id))
        session.execute(insert(WorkPackageParty), [{"work_package_id": item.id, "organisation_id": o, "raci": r}
                                                   for o, r in rows])
    elif isinstance(item, Milestone):
        if item.due_on < project.start_date:
            raise InvalidInput.for_field("due_on", f"it is due before the project starts ({project.start_date})")
        item.owner_id = party_id(session, project, data.owner, field="owner") if data.owner else item.organisation_id
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
        item.owner_id = party_id(session, project, data.owner, field="owner") if data.owner else None
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
    ids = party_list(session, project, owners, field="owners")
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


def add_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, data: ItemFields) -> ProjectItem:
    """Record a work package, milestone, risk, decision, background IP or result."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_open(project)
    organisation_id = contributing_party(session, viewer, project, data.organisation)
    item = ITEM_MODELS[item_type](project_id=project.id, organisation_id=organisation_id,
                                  created_by_id=viewer.user_id)
    session.add(item)
    with session.no_autoflush:  # the item is complete only once its references are resolved
        _apply_item(session, project, item, data)
    record_event(session, viewer, project, kind="item_added", text=f"{ITEM_TYPES[item_type].lower()} “{item.title}”",
           item=item, seen_by=audience_of(session, item))
    return item


def get_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, item_id: int) -> ProjectItem:
    model = ITEM_MODELS[item_type]
    item = session.scalar(select(model).where(model.id == item_id, model.project_id == project_id,
                                              item_condition(viewer, model)))
    if item is None:
        raise NotFound(f"No {ITEM_TYPES[item_type].lower()} with id {item_id} in this project.")
    return item


def update_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, item_id: int,
                changes: dict) -> ProjectItem:
    """Change an item: the given fields, the rest as they were."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_open(project)
    item = get_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id)
    contributing_party(session, viewer, project)
    current = item_values(session, items={item_type: [item]})[item_type][item.id]
    data = _item_input(item_type, current | {k: v for k, v in changes.items() if k != "organisation"})
    if set(data.audience) != set(current["audience"]) and not viewer.is_operator \
            and item.organisation_id not in acting_for(session, viewer, project):
        raise Forbidden("Only the party that recorded this item changes who sees it.")
    before_due, seen_before = getattr(item, "due_on", None), audience_of(session, item)
    with session.no_autoflush:
        _apply_item(session, project, item, data)
    changed = sorted(k for k, v in data.model_dump(include=set(current)).items() if current[k] != v)
    text = f"{ITEM_TYPES[item_type].lower()} “{item.title}”: changed {', '.join(changed) or 'nothing'}"
    if isinstance(item, Milestone) and before_due and item.due_on != before_due:
        text = f"{ITEM_TYPES[item_type].lower()} “{item.title}” moved from {before_due} to {item.due_on}"
    record_event(session, viewer, project, kind="item_changed", text=text, item=item,
           seen_by=audience_before_and_after(seen_before, audience_of(session, item)))
    return item


def delete_item(session: Session, viewer: Viewer, *, project_id: int, item_type: str, item_id: int) -> None:
    project = get_project(session, viewer, project_id=project_id, log=False)
    ensure_open(project)
    item = get_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id)
    contributing_party(session, viewer, project)
    seen_by = audience_of(session, item)
    session.execute(delete(ProjectAudience).where(ProjectAudience.item_type == item_type,
                                                  ProjectAudience.item_id == item.id))
    record_event(session, viewer, project, kind="item_deleted", text=f"{ITEM_TYPES[item_type].lower()} “{item.title}”",
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
