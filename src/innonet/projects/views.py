"""Pages: the joint projects list, starting a project (from scratch, an idea or a
recommended partner), the project page with its timeline, items, IP register, exit review
and closing, and the forms that change them."""

from datetime import date

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet.accounts import service as accounts
from innonet.errors import Forbidden, InnonetError, NotFound
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.projects import service
from innonet.projects.api import ITEM_PATHS
from innonet.projects.models import (
    EXIT_STATES,
    FOREGROUND_MEANINGS,
    FOREGROUND_RULES,
    ITEM_KINDS,
    ITEM_TYPES,
    MILESTONE_STATUSES,
    ORIGINS,
    OUTCOMES,
    PARTY_ROLES,
    PROJECT_STATES,
    REVIEW_DECISIONS,
    RISK_STATUSES,
)
from innonet.projects.schemas import (
    ITEM_INPUTS,
    CloseIn,
    ExitCriterionIn,
    ExitCriterionOut,
    PartyIn,
    PersonIn,
    ProjectIn,
    ProjectPatch,
    ProjectView,
    ReviewIn,
)
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.text import MAX_ID
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    download,
    form_errors,
    form_ids,
    form_text,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(PROJECT_STATES=PROJECT_STATES, PARTY_ROLES=PARTY_ROLES, FOREGROUND_RULES=FOREGROUND_RULES,
                 FOREGROUND_MEANINGS=FOREGROUND_MEANINGS, OUTCOMES=OUTCOMES, REVIEW_DECISIONS=REVIEW_DECISIONS,
                 EXIT_STATES=EXIT_STATES, ITEM_TYPES=ITEM_TYPES, ORIGINS=ORIGINS, MILESTONE_STATUSES=MILESTONE_STATUSES)
ITEM_TYPE_OF_PATH = {path: item_type for item_type, path in ITEM_PATHS.items()}
SCALE = [(str(n), f"{n} · {word}") for n, word in enumerate(("very low", "low", "medium", "high", "very high"), 1)]
# The fields of each kind of item on its form: (name, label, widget, choices or hint).
# Widgets: text, date, textarea, choice, party (one of the parties), parties (ticks), person, work_package.
ITEM_FIELDS: dict[str, list[tuple]] = {
    "work_package": [("code", "Code", "text", "Such as WP1"), ("title", "Title", "text", None),
                     ("start_date", "Starts on", "date", None), ("end_date", "Ends on", "date", None),
                     ("responsible", "Responsible: who does the work", "parties", None),
                     ("accountable", "Accountable: who answers for it", "party", "Default: the lead"),
                     ("consulted", "Consulted", "parties", None), ("informed", "Informed", "parties", None),
                     ("description", "Notes", "textarea", None)],
    "milestone": [("kind", "Kind", "choice", list(ITEM_KINDS.items())), ("title", "Title", "text", None),
                  ("due_on", "Due on", "date", None), ("owner", "Delivered by", "party", "Default: your organisation"),
                  ("owner_person", "Person delivering it (e-mail)", "person", "Someone on the project; optional"),
                  ("work_package", "Work package", "work_package", None),
                  ("status", "Status", "choice", list(MILESTONE_STATUSES.items())),
                  ("description", "Notes", "textarea", None)],
    "risk": [("title", "Risk", "text", None), ("likelihood", "Likelihood", "choice", SCALE),
             ("impact", "Impact", "choice", SCALE), ("owner", "Who watches it", "party", None),
             ("status", "Status", "choice", list(RISK_STATUSES.items())),
             ("description", "What could happen", "textarea", None),
             ("mitigation", "What we do about it", "textarea", None)],
    "decision": [("title", "Decision", "text", None), ("decided_on", "Decided on", "date", None),
                 ("decided_by", "Decided by", "text", "Such as “steering board”"),
                 ("rationale", "Why", "textarea", None)],
    "background_ip": [("title", "What your organisation brings in", "text", "A patent, know-how, software, data"),
                      ("terms", "On what terms the others may use it", "text", "Such as “for the project only”"),
                      ("description", "Description", "textarea", None)],
    "result": [("title", "Result", "text", None), ("owners", "Owned by", "parties",
                                                   "Joint ownership: the parties that made it; owner by creator: the "
                                                   "one that made it; assignment: leave empty"),
               ("description", "Description", "textarea", None)],
}
LIST_FIELDS = {"responsible", "consulted", "informed", "owners", "audience"}



# ---------------------------------------------------------------- list and new


def _projects_page(request: Request, session: Session, viewer: Viewer, *, idea: int | None = None,
                   calendar_url: str | None = None) -> Response:
    found = service.list_projects(session, viewer, idea=idea)
    mine = organisations.organisations_by_id(session, ids=sorted(viewer.member_of)[:1])
    return render(request, "joint_projects.html", {
        "projects": service.summaries(session, viewer, projects=found), "calendar_url": calendar_url,
        "has_calendar": service.has_calendar_feed(session, viewer),
        # The partner finder of the viewer's (first) organisation, where a project may start.
        "finder_url": next((f"/orgs/{o.external_id}/partners" for o in mine.values()), None)})


@router.get("/joint-projects", response_class=HTMLResponse)
def projects_page(request: Request, idea: int | None = Query(None, ge=1, le=MAX_ID), session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    return _projects_page(request, session, viewer, idea=idea)


@router.post("/joint-projects/calendar", response_class=HTMLResponse)
def new_calendar(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """A new calendar address, shown once (the one before stops working)."""
    token = service.create_calendar_feed(session, viewer)
    return _projects_page(request, session, viewer, calendar_url=f"{str(request.base_url).rstrip('/')}"
                                                                 f"/calendar/{token}.ics")


@router.post("/joint-projects/calendar/revoke")
def revoke_calendar(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    service.revoke_calendar_feed(session, viewer)
    return redirect_with_flash(request, "/joint-projects#calendar", "Calendar address revoked: it shows nothing now.")


@router.get("/calendar/{token}.ics")
def calendar(request: Request, token: str = Path(max_length=100), session: Session = DbSession) -> Response:
    """A person's milestones and deliverables as iCalendar, for any calendar app to
    subscribe to; the secret address is the only key (revocable)."""
    user_id = service.calendar_owner(session, token=token)
    person = accounts.viewer_of(session, user_id=user_id, today=date.today(), channel="page")
    body = service.calendar_ics(service.calendar_entries(session, person), base_url=str(request.base_url).rstrip("/"))
    return download(body, "innonet-milestones.ics", "text/calendar; charset=utf-8", inline=True,
                    headers={"Cache-Control": "private, max-age=300"})


def _project_form(request: Request, session: Session, viewer: Viewer, *, lead: Organisation, values: dict,
                  errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    mine = organisations.organisations_by_id(session, ids=sorted(viewer.member_of))
    return render(request, "joint_project_new.html", {
        "lead": lead, "values": values, "errors": errors or {},
        "my_organisations": [(o.external_id, o.name) for o in sorted(mine.values(), key=lambda o: o.name)],
        "role_options": [(k, v) for k, v in PARTY_ROLES.items() if k != "lead"],
        "agreement_options": [(a.id, f"{a.title} (#{a.id})") for a in sharing.list_agreements(session, viewer)]},
        status_code=status_code)


@router.get("/joint-projects/new", response_class=HTMLResponse)
def new_project(request: Request, org: str | None = Query(None, max_length=64),
                idea: int | None = Query(None, ge=1, le=MAX_ID), partner: str | None = Query(None, max_length=64),
                session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """The form; ``idea`` starts from a selected idea, ``partner`` from a recommended partner."""
    lead = organisations.acting_for(session, viewer, external_id=org, doing="start joint projects")
    values: dict = {"start_date": viewer.today.isoformat(), "visibility": "private", "foreground_rule": "joint",
                    "exit_late_days": "14", "exit_idle_days": "60", "exit_agreement_days": "30", "exit_kpi": "50"}
    if idea is not None:
        values |= {"idea": idea, "title": service.idea_title(session, viewer, idea_id=idea)}
    if partner is not None:
        values["recommended_partner"] = organisations.get_organisation(session, external_id=partner).external_id
    return _project_form(request, session, viewer, lead=lead, values=values)


def _exit_criteria(form: FormData) -> list[dict]:
    wanted = []
    for kind, box in (("milestone_late", "exit_late_days"), ("inactive", "exit_idle_days"),
                      ("agreement_expiring", "exit_agreement_days")):
        if form.get(f"{box}_on") == "on":
            wanted.append({"kind": kind, "days": form_text(form, box)})
    if form.get("exit_kpi_on") == "on":
        wanted.append({"kind": "kpi_below", "kpi": "milestones_on_time", "threshold": form_text(form, "exit_kpi")})
    return wanted


def _form_values(form: FormData) -> dict:
    values: dict = {name: form_text(form, name) for name in (
        "title", "summary", "start_date", "end_date", "foreground_rule", "assignee", "visibility", "agreement",
        "idea", "recommended_partner", "exit_late_days", "exit_idle_days", "exit_agreement_days", "exit_kpi")}
    values |= {"shared_with": form_ids(form, "shared_with"),
               "parties": [{"organisation": o, "role": str(form.get("party_role") or "partner")}
                           for o in form_ids(form, "parties", limit=50)],
               "agreements": [str(a) for a in form.getlist("agreements") if str(a).isdigit()][:20],
               "exit_criteria": _exit_criteria(form),
               "checked": {k for k in ("exit_late_days_on", "exit_idle_days_on", "exit_agreement_days_on",
                                       "exit_kpi_on") if form.get(k) == "on"}}
    return values


@router.post("/joint-projects/new", response_class=HTMLResponse)
def create_project(request: Request, org: str | None = Query(None, max_length=64), session: Session = DbSession,
                   viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    lead = organisations.acting_for(session, viewer, external_id=form_text(form, "organisation") or org,
                                    doing="start joint projects")
    values = _form_values(form)
    try:
        data = ProjectIn.model_validate({k: v for k, v in values.items()
                                         if v is not None and k in ProjectIn.model_fields}
                                        | {"organisation": lead.external_id})
        with session.begin_nested():
            made = service.create_project(session, viewer, data=data)
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        return _project_form(request, session, viewer, lead=lead, values=values | {"parties": " ".join(
            p["organisation"] for p in values["parties"]), "shared_with": " ".join(values["shared_with"])},
            errors=errors, status_code=status)
    return redirect_with_flash(request, f"/joint-projects/{made.id}",
                               "Project started: the other parties find it in their inbox.")


# ---------------------------------------------------------------- the project page


def _options(view: ProjectView) -> dict[str, list[tuple[str, str]]]:
    """The choices the project's forms offer: its parties and its work packages."""
    return {"party_options": [(p.organisation.external_id, p.organisation.name) for p in view.parties],
            "wp_options": [(str(i.id), f"{i.fields['code']} · {i.fields['title']}")
                           for i in view.items["work_package"]]}


def _project_page(request: Request, session: Session, viewer: Viewer, project_id: int, *, status_code: int = 200,
                  errors: dict[str, str] | None = None, open_form: str | None = None,
                  values: dict | None = None) -> Response:
    project = service.get_project(session, viewer, project_id=project_id)
    view = service.project_view(session, viewer, project=project)
    items = service.visible_items(session, viewer, project=project)
    return render(request, "joint_project.html", {
        "p": view, "timeline": service.timeline(project, work_packages=items["work_package"],
                                                milestones=items["milestone"], today=viewer.today),
        "late": {m.id: days for m, days in service.late_items(items["milestone"], viewer.today)},
        "events": service.events_of(session, viewer, project=project, limit=30),
        "item_fields": ITEM_FIELDS, "item_paths": ITEM_PATHS,
        **_options(view),
        "agreement_options": [(a.id, f"{a.title} (#{a.id})") for a in sharing.list_agreements(session, viewer)]
        if view.may_manage else [],
        "errors": errors or {}, "open_form": open_form, "values": values or {}}, status_code=status_code)


@router.get("/joint-projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, project_id: RecordId, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer) -> Response:
    return _project_page(request, session, viewer, project_id)


def _failed(request: Request, session: Session, viewer: Viewer, project_id: int,
            error: ValidationError | InnonetError, *,
            form_name: str, default_field: str, values: dict | None = None) -> Response:
    """Show the project page again with the form that failed open and its problems."""
    errors, status = refused_form(session, error, default_field)
    return _project_page(request, session, viewer, project_id, status_code=status,
                         errors=errors, open_form=form_name, values=values)


@router.get("/joint-projects/{project_id}/briefing", response_class=HTMLResponse)
def briefing(request: Request, project_id: RecordId, session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> Response:
    project = service.get_project(session, viewer, project_id=project_id)
    return render(request, "joint_project_briefing.html", {
        "project": project, "b": service.briefing(session, viewer, project=project)})


@router.post("/joint-projects/{project_id}/parties", response_class=HTMLResponse)
def add_party(request: Request, project_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
              form: FormData = PostedForm) -> Response:
    try:
        data = PartyIn.model_validate({"organisation": form_text(form, "organisation") or "",
                                       "role": form_text(form, "role") or "partner"})
        with session.begin_nested():
            service.add_party(session, viewer, project_id=project_id, data=data)
    except (ValidationError, InnonetError) as error:
        return _failed(request, session, viewer, project_id, error, form_name="party", default_field="organisation")
    return redirect_with_flash(request, f"/joint-projects/{project_id}#parties",
                               "Party added: its members were told.")


@router.post("/joint-projects/{project_id}/parties/{organisation}/remove")
def remove_party(request: Request, project_id: RecordId, organisation: str, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer) -> Response:
    service.remove_party(session, viewer, project_id=project_id, organisation=organisation)
    try:
        service.get_project(session, viewer, project_id=project_id, log=False)
    except NotFound:  # the viewer's own organisation left
        return redirect_with_flash(request, "/joint-projects", "Your organisation left the project.")
    return redirect_with_flash(request, f"/joint-projects/{project_id}#parties",
                               "Party removed: its people no longer see the project.")


@router.post("/joint-projects/{project_id}/people", response_class=HTMLResponse)
def add_person(request: Request, project_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
               form: FormData = PostedForm) -> Response:
    try:
        data = PersonIn.model_validate({"email": form_text(form, "email") or "",
                                        "organisation": form_text(form, "organisation") or "",
                                        "title": form_text(form, "title")})
        with session.begin_nested():
            service.add_person(session, viewer, project_id=project_id, data=data)
    except (ValidationError, InnonetError) as error:
        return _failed(request, session, viewer, project_id, error, form_name="person", default_field="email")
    return redirect_with_flash(request, f"/joint-projects/{project_id}#parties", "Person added to the project.")


@router.post("/joint-projects/{project_id}/people/{user_id}/remove")
def remove_person(request: Request, project_id: RecordId, user_id: RecordId, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    service.remove_person(session, viewer, project_id=project_id, user_id=user_id)
    return redirect_with_flash(request, f"/joint-projects/{project_id}#parties", "Person taken off the project.")


# ---------------------------------------------------------------- items


def _item_values(form: FormData, item_type: str) -> dict:
    names = [f[0] for f in ITEM_FIELDS[item_type]] + ["audience", "organisation"]
    values: dict = {}
    for name in names:
        if name in LIST_FIELDS:
            values[name] = [str(v) for v in form.getlist(name) if str(v).strip()][:50]
        elif (value := form_text(form, name)) is not None:
            values[name] = value
    return values


def _item_type(kind: str) -> str:
    if kind not in ITEM_TYPE_OF_PATH:
        raise NotFound(f"No kind of project item called {kind[:40]!r}.")
    return ITEM_TYPE_OF_PATH[kind]


def _item_form(request: Request, session: Session, viewer: Viewer, *, project_id: int, item_type: str,
               item_id: int | None,
               values: dict, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    project = service.get_project(session, viewer, project_id=project_id)
    view = service.project_view(session, viewer, project=project)
    return render(request, "joint_project_item_form.html", {
        "p": view, "item_type": item_type, "item_id": item_id, "kind": ITEM_PATHS[item_type],
        "fields": ITEM_FIELDS[item_type], "values": values, "errors": errors or {},
        **_options(view)}, status_code=status_code)


@router.get("/joint-projects/{project_id}/items/{kind}/new", response_class=HTMLResponse)
def new_item(request: Request, project_id: RecordId, kind: str, session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> Response:
    item_type = _item_type(kind)
    service.ensure_contributor(session, viewer, project_id=project_id)
    return _item_form(request, session, viewer, project_id=project_id, item_type=item_type, item_id=None,
                      values={"kind": "milestone", "status": "planned", "likelihood": "3", "impact": "3",
                              "decided_on": viewer.today.isoformat()})


@router.post("/joint-projects/{project_id}/items/{kind}/new", response_class=HTMLResponse)
def add_item(request: Request, project_id: RecordId, kind: str, session: Session = DbSession,
             viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    item_type = _item_type(kind)
    values = _item_values(form, item_type)
    try:
        data = ITEM_INPUTS[item_type].model_validate(values)
        with session.begin_nested():
            service.add_item(session, viewer, project_id=project_id, item_type=item_type, data=data)
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        return _item_form(request, session, viewer, project_id=project_id, item_type=item_type, item_id=None,
                          values=values, errors=errors,
                          status_code=status)
    return redirect_with_flash(request, f"/joint-projects/{project_id}#{kind}", f"{ITEM_TYPES[item_type]} added.")


@router.get("/joint-projects/{project_id}/items/{kind}/{item_id}/edit", response_class=HTMLResponse)
def edit_item(request: Request, project_id: RecordId, kind: str, item_id: RecordId, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    item_type = _item_type(kind)
    item = service.get_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id)
    service.ensure_contributor(session, viewer, project_id=project_id)
    values = service.item_values(session, items={item_type: [item]})[item_type][item.id]
    return _item_form(request, session, viewer, project_id=project_id, item_type=item_type, item_id=item_id,
                      values={k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()})


@router.post("/joint-projects/{project_id}/items/{kind}/{item_id}/edit", response_class=HTMLResponse)
def update_item(request: Request, project_id: RecordId, kind: str, item_id: RecordId, session: Session = DbSession,
                viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    item_type = _item_type(kind)
    values = _item_values(form, item_type)
    # An emptied optional box clears it; the form sends every field.
    changes = {name: values.get(name, [] if name in LIST_FIELDS else None)
               for name in [f[0] for f in ITEM_FIELDS[item_type]] + ["audience"]}
    try:
        with session.begin_nested():
            service.update_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id,
                                changes=changes)
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        return _item_form(request, session, viewer, project_id=project_id, item_type=item_type, item_id=item_id,
                          values=values, errors=form_errors(error, "title"), status_code=error.status_code)
    return redirect_with_flash(request, f"/joint-projects/{project_id}#{kind}", f"{ITEM_TYPES[item_type]} saved.")


@router.post("/joint-projects/{project_id}/items/{kind}/{item_id}/delete")
def delete_item(request: Request, project_id: RecordId, kind: str, item_id: RecordId, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> Response:
    item_type = _item_type(kind)
    service.delete_item(session, viewer, project_id=project_id, item_type=item_type, item_id=item_id)
    return redirect_with_flash(request, f"/joint-projects/{project_id}#{kind}", f"{ITEM_TYPES[item_type]} deleted.")


# ---------------------------------------------------------------- managing


@router.get("/joint-projects/{project_id}/edit", response_class=HTMLResponse)
def edit_project(request: Request, project_id: RecordId, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer) -> Response:
    project = service.get_project(session, viewer, project_id=project_id)
    view = service.project_view(session, viewer, project=project)
    if not view.may_manage:
        raise Forbidden("Only the lead's administrators may change the project.")
    values = view.model_dump(include={"title", "summary", "start_date", "end_date", "foreground_rule", "visibility",
                                      "agreement"})
    values |= {"assignee": view.assignee.external_id if view.assignee else None,
               "shared_with": " ".join(o.external_id for o in view.shared_with),
               "agreements": [a.id for a in view.agreements]}
    values |= _criteria_values(view.exit_criteria)
    return _edit_form(request, session, viewer, view=view, values=values)


def _criteria_values(criteria: list[ExitCriterionOut]) -> dict:
    values: dict = {"checked": set(), "exit_late_days": "14", "exit_idle_days": "60", "exit_agreement_days": "30",
                    "exit_kpi": "50"}
    boxes = {"milestone_late": "exit_late_days", "inactive": "exit_idle_days",
             "agreement_expiring": "exit_agreement_days", "kpi_below": "exit_kpi"}
    for c in criteria:
        box = boxes[c.kind]
        values["checked"].add(f"{box}_on")
        values[box] = str(c.days if c.days is not None else f"{c.threshold:g}")
    return values


def _edit_form(request: Request, session: Session, viewer: Viewer, *, view: ProjectView, values: dict,
               errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "joint_project_edit.html", {
        "p": view, "values": values, "errors": errors or {},
        **_options(view),
        "agreement_options": [(a.id, f"{a.title} (#{a.id})") for a in sharing.list_agreements(session, viewer)]},
        status_code=status_code)


@router.post("/joint-projects/{project_id}/edit", response_class=HTMLResponse)
def update_project(request: Request, project_id: RecordId, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    values = _form_values(form)
    changes = {k: values[k] for k in ("title", "summary", "start_date", "end_date", "foreground_rule", "assignee",
                                      "visibility", "shared_with", "agreement")}
    try:
        with session.begin_nested():
            service.update_project(session, viewer, project_id=project_id,
                                   changes=ProjectPatch.model_validate(
                                       {k: v for k, v in changes.items() if v is not None or k in (
                                           "summary", "end_date", "assignee", "agreement")}))
            service.set_agreements(session, viewer, project_id=project_id,
                                   agreement_ids=[int(a) for a in values["agreements"]])
            service.set_exit_criteria(session, viewer, project_id=project_id, criteria=[
                ExitCriterionIn.model_validate(c) for c in values["exit_criteria"]])
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        view = service.project_view(session, viewer, project=service.get_project(session, viewer,
                                                                                 project_id=project_id))
        shown = values | {"shared_with": " ".join(values["shared_with"]),
                          "agreements": [int(a) for a in values["agreements"]]}
        return _edit_form(request, session, viewer, view=view, values=shown, errors=errors,
                          status_code=status)
    return redirect_with_flash(request, f"/joint-projects/{project_id}", "Project saved.")


@router.post("/joint-projects/{project_id}/review", response_class=HTMLResponse)
def decide_review(request: Request, project_id: RecordId, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    try:
        data = ReviewIn.model_validate({"decision": form_text(form, "decision"), "note": form_text(form, "note")})
        with session.begin_nested():
            service.decide_review(session, viewer, project_id=project_id, data=data)
    except (ValidationError, InnonetError) as error:
        return _failed(request, session, viewer, project_id, error, form_name="review", default_field="decision")
    return redirect_with_flash(request, f"/joint-projects/{project_id}",
                               "Review decided." if data.decision != "exit" else "The project was closed as stopped.")


@router.post("/joint-projects/{project_id}/close", response_class=HTMLResponse)
def close_project(request: Request, project_id: RecordId, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    values = {name: form_text(form, name) for name in ("outcome", "results_summary", "lessons")}
    try:
        data = CloseIn.model_validate(values)
        with session.begin_nested():
            service.close_project(session, viewer, project_id=project_id, data=data)
    except (ValidationError, InnonetError) as error:
        return _failed(request, session, viewer, project_id, error, form_name="close", default_field="outcome",
                       values=values)
    return redirect_with_flash(request, f"/joint-projects/{project_id}", "Project closed.")


@router.post("/joint-projects/{project_id}/delete")
def delete_project(request: Request, project_id: RecordId, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> Response:
    title = service.get_project(session, viewer, project_id=project_id, log=False).title
    service.delete_project(session, viewer, project_id=project_id)
    return redirect_with_flash(request, "/joint-projects", f"Project “{title}” deleted.")


@router.get("/ideas/{idea_id}/projects", response_class=HTMLResponse)
def idea_projects(request: Request, idea_id: RecordId, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    """What became of an idea: the projects started from it that the viewer may see (a fragment)."""
    found = service.list_projects(session, viewer, idea=idea_id)
    return render(request, "_idea_projects.html", {
        "projects": found, "idea_id": idea_id,
        "may_start": not found and service.may_start_from_idea(session, viewer, idea_id=idea_id)})
