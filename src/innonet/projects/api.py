"""JSON endpoints: joint projects, their parties and people, items, agreements, exit
criteria, reviews and closing."""

from typing import Annotated, Literal

from fastapi import Path, Query, Response
from pydantic import create_model
from sqlalchemy.orm import Session

from innonet.projects import service
from innonet.projects.models import ITEM_TYPES, JointProject
from innonet.projects.schemas import (
    ITEM_INPUTS,
    AgreementsIn,
    BriefingOut,
    CloseIn,
    EventOut,
    ExitCriteriaIn,
    ItemFields,
    ItemOut,
    PartyIn,
    PersonIn,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    ProjectSummary,
    ProjectView,
    ReviewIn,
)
from innonet.roles import Viewer
from innonet.text import MAX_ID
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router(tags=["joint projects"])
NO_CONTENT = Response(status_code=204)
# The path of each kind of item under /joint-projects/{id}/.
ITEM_PATHS = {"work_package": "work-packages", "milestone": "milestones", "risk": "risks",
              "decision": "decisions", "background_ip": "background-ip", "result": "results"}


def _out(session: Session, viewer: Viewer, project: JointProject) -> ProjectView:
    return service.project_view(session, viewer, project=project)


def _refreshed(session: Session, viewer: Viewer, project_id: int) -> ProjectView:
    return _out(session, viewer, service.get_project(session, viewer, project_id=project_id, log=False))


@router.get("/joint-projects", response_model=list[ProjectSummary])
def list_projects(organisation: Annotated[str | None, Query(max_length=64)] = None,
                  state: Literal["active", "closed"] | None = None,
                  idea: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                  session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[ProjectSummary]:
    """Joint projects you may see: running ones first. ``idea``: the project started from that idea."""
    return service.summaries(session, viewer, projects=service.list_projects(
        session, viewer, organisation=organisation, state=state, idea=idea))


@router.post("/joint-projects", response_model=ProjectOut, status_code=201)
def create_project(data: ProjectIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ProjectOut:
    """Start a joint project led by your organisation: from scratch, from a selected idea
    (``idea``) or from a partner recommendation (``recommended_partner``)."""
    return _out(session, viewer, service.create_project(session, viewer, data=data))


@router.get("/joint-projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ProjectOut:
    return _out(session, viewer, service.get_project(session, viewer, project_id=project_id))


@router.patch("/joint-projects/{project_id}", response_model=ProjectOut)
def update_project(project_id: RecordId, changes: ProjectPatch, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> ProjectOut:
    """Change the project's title, summary, dates, foreground rule or visibility (the lead's administrators)."""
    return _out(session, viewer, service.update_project(session, viewer, project_id=project_id, changes=changes))


@router.delete("/joint-projects/{project_id}", status_code=204)
def delete_project(project_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """Delete the project and everything in it (the lead's administrators)."""
    service.delete_project(session, viewer, project_id=project_id)
    return NO_CONTENT


@router.get("/joint-projects/{project_id}/activity", response_model=list[EventOut])
def activity(project_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[EventOut]:
    """What happened in the project, newest first (events about items you may not see left out)."""
    project = service.get_project(session, viewer, project_id=project_id)
    return [EventOut.model_validate(e, from_attributes=True) for e in service.events_of(session, viewer,
             project=project)]


@router.get("/joint-projects/{project_id}/briefing", response_model=BriefingOut)
def briefing(project_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> BriefingOut:
    """Cultural briefing for a cross-border team: each pair of the parties' countries compared on
    Hofstede's six dimensions, with what to agree on explicitly (national averages, never a
    judgement of people)."""
    return service.briefing(session, viewer, project=service.get_project(session, viewer, project_id=project_id))


@router.post("/joint-projects/{project_id}/parties", response_model=ProjectOut)
def add_party(project_id: RecordId, data: PartyIn, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> ProjectOut:
    """Add a party (the lead's administrators); its members are told."""
    service.add_party(session, viewer, project_id=project_id, data=data)
    return _refreshed(session, viewer, project_id)


@router.delete("/joint-projects/{project_id}/parties/{organisation}", status_code=204)
def remove_party(project_id: RecordId, organisation: Annotated[str, Path(max_length=64)],
                 session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """Remove a party (the lead's administrators, or the party's own to leave): it loses access at once."""
    service.remove_party(session, viewer, project_id=project_id, organisation=organisation)
    return NO_CONTENT


@router.post("/joint-projects/{project_id}/people", response_model=ProjectOut)
def add_person(project_id: RecordId, data: PersonIn, session: Session = DbSession,
               viewer: Viewer = CurrentViewer) -> ProjectOut:
    """Name a person on the project for their party (that party's administrators, or the lead's);
    a guest of a party sees the project only this way."""
    service.add_person(session, viewer, project_id=project_id, data=data)
    return _refreshed(session, viewer, project_id)


@router.delete("/joint-projects/{project_id}/people/{user_id}", status_code=204)
def remove_person(project_id: RecordId, user_id: RecordId, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    service.remove_person(session, viewer, project_id=project_id, user_id=user_id)
    return NO_CONTENT


@router.put("/joint-projects/{project_id}/agreements", response_model=ProjectOut)
def set_agreements(project_id: RecordId, data: AgreementsIn, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> ProjectOut:
    """The NDA, IP and collaboration agreements the project works under; replaces the list."""
    service.set_agreements(session, viewer, project_id=project_id, agreement_ids=data.agreements)
    return _refreshed(session, viewer, project_id)


@router.put("/joint-projects/{project_id}/exit-criteria", response_model=ProjectOut)
def set_exit_criteria(project_id: RecordId, data: ExitCriteriaIn, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> ProjectOut:
    """The criteria checked every day; when one is met the parties' administrators are told. Replaces the list."""
    service.set_exit_criteria(session, viewer, project_id=project_id, criteria=data.exit_criteria)
    return _refreshed(session, viewer, project_id)


@router.post("/joint-projects/{project_id}/review", response_model=ProjectOut)
def decide_review(project_id: RecordId, data: ReviewIn, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> ProjectOut:
    """Answer the open exit review: continue, change, or exit (closes the project as stopped)."""
    service.decide_review(session, viewer, project_id=project_id, data=data)
    return _refreshed(session, viewer, project_id)


@router.post("/joint-projects/{project_id}/close", response_model=ProjectOut)
def close_project(project_id: RecordId, data: CloseIn, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> ProjectOut:
    """Close the project with its outcome, results and lessons learned (the lead's administrators)."""
    service.close_project(session, viewer, project_id=project_id, data=data)
    return _refreshed(session, viewer, project_id)


def _item_out(session: Session, viewer: Viewer, project_id: int, item_type: str, item_id: int) -> ItemOut:
    view = _refreshed(session, viewer, project_id)
    return next(i for i in view.items[item_type] if i.id == item_id)


def _item_routes(item_type: str, path: str) -> None:
    """Create, change and delete one kind of item."""
    model = ITEM_INPUTS[item_type]
    # Every field optional: what is not sent stays as it is.
    patch = create_model(f"{model.__name__.removesuffix('In')}Patch", __base__=ItemFields,
                         **{name: (field.annotation | None, None)  # type: ignore[operator]
                            for name, field in model.model_fields.items()
                            if name not in ItemFields.model_fields})  # type: ignore[call-overload]
    label = ITEM_TYPES[item_type].lower()

    def create(project_id: RecordId, data: model, session: Session = DbSession,  # type: ignore[valid-type]
               viewer: Viewer = CurrentViewer) -> ItemOut:
        item = service.add_item(session, viewer, project_id=project_id, item_type=item_type, data=data)
        return _item_out(session, viewer, project_id, item_type, item.id)

    def change(project_id: RecordId, item_id: RecordId, data: patch, session: Session = DbSession,
                # type: ignore[valid-type]
               viewer: Viewer = CurrentViewer) -> ItemOut:
        service.update_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id,
                            changes=data.model_dump(exclude_unset=True))  # type: ignore[attr-defined]
        return _item_out(session, viewer, project_id, item_type, item_id)

    def remove(project_id: RecordId, item_id: RecordId, session: Session = DbSession,
               viewer: Viewer = CurrentViewer) -> Response:
        service.delete_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id)
        return NO_CONTENT

    router.post(f"/joint-projects/{{project_id}}/{path}", response_model=ItemOut, status_code=201,
                summary=f"Add a {label}", operation_id=f"add_{item_type}")(create)
    router.patch(f"/joint-projects/{{project_id}}/{path}/{{item_id}}", response_model=ItemOut,
                 summary=f"Change a {label}", operation_id=f"change_{item_type}")(change)
    router.delete(f"/joint-projects/{{project_id}}/{path}/{{item_id}}", status_code=204,
                  summary=f"Delete a {label}", operation_id=f"delete_{item_type}")(remove)


for _type, _path in ITEM_PATHS.items():
    _item_routes(_type, _path)
