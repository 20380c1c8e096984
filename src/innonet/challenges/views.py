"""Pages: challenges, the idea form with similar ideas while typing, and the idea page
where people support, rate, discuss, move and merge ideas."""

from collections.abc import Callable

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet import roles
from innonet.challenges import evaluation, metrics, service
from innonet.challenges.models import CHALLENGE_STATES, IDEA_EVENTS, IP_TERMS, SUBMISSION_RULES, Challenge, Idea
from innonet.challenges.schemas import ChallengeIn, ChallengePatch, CommentIn, IdeaIn, IdeaPatch
from innonet.errors import InnonetError, InvalidInput
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.text import counted, markdown_html, parse_record_id
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    csv_download,
    form_errors,
    form_ids,
    form_tags,
    form_text,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(CHALLENGE_STATES=CHALLENGE_STATES, SUBMISSION_RULES=SUBMISSION_RULES, IP_TERMS=IP_TERMS,
                 IDEA_EVENTS=IDEA_EVENTS, markdown=markdown_html)
IDEAS_PER_PAGE = 50
CLEARABLE = {"sought", "offered", "cover_text", "opens_on", "closes_on", "terms_text", "agreement"}
# What each state button does, for the challenge's team.
STATE_ACTIONS = {"open": "Open for ideas", "closed": "Close to new ideas", "decided": "Mark as decided",
                 "draft": "Back to draft"}




# ---------------------------------------------------------------- challenges


@router.get("/challenges", response_class=HTMLResponse)
def challenges(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    found = service.list_challenges(session, viewer)
    mine = organisations.organisations_by_id(session, ids=sorted(viewer.member_of))
    return render(request, "challenges.html", {
        "challenges": service.challenge_view(session, viewer, challenges=found),
        "my_organisations": sorted(mine.values(), key=lambda o: o.name)})


def _challenge_form_values(form: FormData) -> dict:
    values: dict = {name: form_text(form, name) for name in (
        "organisation", "title", "problem", "sought", "offered", "cover_text", "opens_on", "closes_on",
        "submissions", "ip_terms", "terms_text", "visibility", "agreement")}
    stage = str(form.get("scorecard_stage") or "evaluation")[:30]
    values["scorecard_typed"] = str(form.get("scorecard") or "")[:5000]  # shown again as typed
    values |= {"open_call": form.get("open_call") == "on", "blind": form.get("blind") == "on",
               "tags": form_tags(form), "scorecard_stage": stage,
               "shared_with": form_ids(form, "shared_with"),
               "criteria": [{"name": line.strip()[:100]} for line in str(form.get("criteria") or "").splitlines()
                            if line.strip()][:30]}
    for number, line in enumerate(str(form.get("scorecard") or "").splitlines()[:30], start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        name, weight, scale = (parts + ["1", "5"][len(parts) - 1:])[:3] if len(parts) <= 3 else ("", "", "")
        if not name or not _number(weight or "1") or not scale.isdigit():
            values["scorecard_problem"] = (f"line {number}: write a criterion as “name | weight | scale”, "
                                           "such as “Feasibility | 2 | 5”")
            break
        values["criteria"].append({"name": name[:100], "weight": float(weight or 1), "scale": int(scale[:2]),
                                   "stage": stage})
    return values


def _refuse_scorecard_problem(values: dict) -> None:
    if problem := values.get("scorecard_problem"):
        raise InvalidInput.for_field("scorecard", problem)


def _number(text: str) -> bool:
    try:
        return 0 < float(text) <= 100
    except ValueError:
        return False


def _challenge_form(request: Request, session: Session, viewer: Viewer, *,
                    organisation: Organisation | OrganisationSummary,
                    challenge: Challenge | None = None, values: dict | None = None,
                    errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    shown = dict(values or {"visibility": "partners", "submissions": "shared", "ip_terms": "submitter_keeps",
                            "scorecard_stage": "evaluation"})
    if isinstance(shown.get("tags"), list):
        shown["tags"] = ", ".join(shown["tags"])
    if isinstance(shown.get("shared_with"), list):
        shown["shared_with"] = " ".join(shown["shared_with"])
    if isinstance(shown.get("criteria"), list):
        criteria = [c if isinstance(c, dict) else {"name": c.name, "weight": c.weight, "scale": c.scale,
                                                   "stage": c.stage} for c in shown["criteria"]]
        stage = shown.get("scorecard_stage") or next((c["stage"] for c in criteria if c.get("stage")), "evaluation")
        shown["scorecard_stage"] = stage
        shown["criteria"] = "\n".join(c["name"] for c in criteria if not c.get("stage"))
        shown["scorecard"] = shown.get("scorecard_typed") or "\n".join(
            f"{c['name']} | {c.get('weight', 1):g} | {c.get('scale', 5)}" for c in criteria if c.get("stage") == stage)
    workflow = challenge.workflow if challenge is not None else service.default_workflow()
    return render(request, "challenge_form.html", {
        "org": organisation, "challenge": challenge, "values": shown, "errors": errors or {},
        "stage_options": list(workflow["stages"].items()),
        "agreement_options": [(a.id, f"{a.title} (#{a.id})") for a in sharing.list_agreements(session, viewer)]},
        status_code=status_code)


@router.get("/challenges/new", response_class=HTMLResponse)
def new_challenge(request: Request, org: str | None = Query(None, max_length=64), session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    return _challenge_form(request, session, viewer, organisation=organisations.acting_for(
        session, viewer, external_id=org, doing="pose challenges"))


@router.post("/challenges/new", response_class=HTMLResponse)
def create_challenge(request: Request, org: str | None = Query(None, max_length=64), session: Session = DbSession,
                     viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    organisation = organisations.acting_for(session, viewer, external_id=org, doing="pose challenges")
    values = _challenge_form_values(form) | {"organisation": organisation.external_id}
    try:
        _refuse_scorecard_problem(values)
        data = ChallengeIn(**{k: v for k, v in values.items() if v is not None and k in ChallengeIn.model_fields})
        with session.begin_nested():
            made = service.create_challenge(session, viewer, data=data)
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        return _challenge_form(request, session, viewer, organisation=organisation, values=values,
                               errors=errors, status_code=status)
    return redirect_with_flash(request, f"/challenges/{made.id}",
                               "Challenge saved as a draft: open it when it is ready.")


def _challenge_page(request: Request, session: Session, viewer: Viewer, challenge_id: int, *, status_code: int = 200,
                    errors: dict[str, str] | None = None) -> Response:
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    view = service.challenge_view(session, viewer, challenges=[challenge])[0]
    params = request.query_params
    order = params.get("order", "newest")
    order = order if order in ("newest", "supported", "discussed") else "newest"
    stage = params.get("stage") if params.get("stage") in challenge.workflow["stages"] else None
    page = parse_record_id(params.get("page", "1")) or 1
    ideas, total = service.list_ideas(session, viewer, challenge_id=challenge.id, order=order, stage=stage,
                                      limit=IDEAS_PER_PAGE, offset=(page - 1) * IDEAS_PER_PAGE)
    manage = service.may_manage(viewer, challenge)
    return render(request, "challenge.html", {
        "c": view, "ideas": service.idea_summaries(session, viewer, ideas=ideas), "total": total,
        "order": order, "stage": stage, "page": page, "pages": max(1, -(-total // IDEAS_PER_PAGE)),
        "per_page": IDEAS_PER_PAGE, "filters": {"order": order, "stage": stage}, "found": {"capped": False},
        "state_actions": {k: v for k, v in STATE_ACTIONS.items() if k != challenge.state},
        "invited": service.invited_organisations(session, challenge=challenge) if manage else [],
        "may_evaluate": manage or service.may_decide(session, viewer, challenge)
        or service.is_evaluator(session, viewer, challenge),
        "may_figures": manage or service.may_decide(session, viewer, challenge),
        "errors": errors or {}}, status_code=status_code)


@router.get("/challenges/{challenge_id}", response_class=HTMLResponse)
def challenge_page(request: Request, challenge_id: RecordId, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> Response:
    return _challenge_page(request, session, viewer, challenge_id)


@router.get("/challenges/{challenge_id}/edit", response_class=HTMLResponse)
def edit_challenge(request: Request, challenge_id: RecordId, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> Response:
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    view = service.challenge_view(session, viewer, challenges=[challenge])[0]
    values = view.model_dump(include={"title", "problem", "sought", "offered", "cover_text", "opens_on", "closes_on",
                                      "open_call", "blind", "tags", "visibility", "agreement", "criteria"})
    values |= {"submissions": challenge.submissions, "ip_terms": challenge.ip_terms,
               "terms_text": challenge.terms_text,
               "shared_with": [o.external_id for o in view.shared_with]}
    return _challenge_form(request, session, viewer, organisation=view.organisation, challenge=challenge,
                           values=values)


@router.post("/challenges/{challenge_id}/edit", response_class=HTMLResponse)
def update_challenge(request: Request, challenge_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    values = _challenge_form_values(form)
    values.pop("organisation")
    # An empty box clears an optional text or date; a choice left out stays as it was.
    changes = {k: v for k, v in values.items()
               if (v is not None or k in CLEARABLE) and k in ChallengePatch.model_fields}
    # The form shows one stage's scorecard: the others' stay as they are.
    changes["criteria"] += [{"name": c.name, "weight": c.weight, "scale": c.scale, "stage": c.stage}
                            for c in service.criteria_of(session, challenge_ids=[challenge.id])[challenge.id]
                            if c.stage is not None and c.stage != values["scorecard_stage"]]
    try:
        _refuse_scorecard_problem(values)
        with session.begin_nested():
            service.update_challenge(session, viewer, challenge_id=challenge_id,
                                     changes=ChallengePatch(**changes))
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        owner = organisations.organisations_by_id(session, ids=[challenge.organisation_id])[challenge.organisation_id]
        return _challenge_form(request, session, viewer, organisation=owner, challenge=challenge, values=values,
                               errors=errors, status_code=status)
    return redirect_with_flash(request, f"/challenges/{challenge_id}", "Challenge saved.")


@router.post("/challenges/{challenge_id}/state")
def change_state(request: Request, challenge_id: RecordId, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    state = str(form.get("state") or "")
    service.update_challenge(session, viewer, challenge_id=challenge_id,
                             changes=ChallengePatch.model_validate({"state": state or None}))
    return redirect_with_flash(request, f"/challenges/{challenge_id}",
                               f"The challenge is now {CHALLENGE_STATES.get(state, state).split(':')[0].lower()}.")


@router.get("/challenges/{challenge_id}/solvers", response_class=HTMLResponse)
def solvers(request: Request, challenge_id: RecordId, session: Session = DbSession,
            viewer: Viewer = CurrentViewer) -> Response:
    """Who the partner finder proposes, with why, and a box to invite each."""
    found = service.propose_solvers(session, viewer, challenge_id=challenge_id)
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    view = service.challenge_view(session, viewer, challenges=[challenge])[0]
    invited = {o.external_id for o in service.invited_organisations(session, challenge=challenge)}
    invited |= {o.external_id for o in view.shared_with}
    return render(request, "solvers.html", {"c": view, "found": found, "invited": invited})


@router.post("/challenges/{challenge_id}/delete")
def delete_challenge(request: Request, challenge_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> Response:
    """The owner's administrators delete a challenge with its ideas (asked to confirm first)."""
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    title = challenge.title
    service.delete_challenge(session, viewer, challenge_id=challenge_id)
    return redirect_with_flash(request, "/challenges", f"Challenge “{title}” deleted with its ideas.")


@router.post("/challenges/{challenge_id}/invitations", response_class=HTMLResponse)
def invite(request: Request, challenge_id: RecordId, session: Session = DbSession,
           viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    # From the picker (one field of ids) or from the solvers' boxes (one field per organisation).
    wanted = [e for value in form.getlist("organisations") for e in str(value).replace(",", " ").split()][:50]
    try:
        with session.begin_nested():
            if not wanted:
                raise InvalidInput.for_field("organisations", "pick at least one organisation to invite")
            new = service.invite_organisations(session, viewer, challenge_id=challenge_id, external_ids=wanted)
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        return _challenge_page(request, session, viewer, challenge_id, status_code=error.status_code,
                               errors={"organisations": form_errors(error, "organisations")
                                       .get("organisations", error.message)})
    return redirect_with_flash(request, f"/challenges/{challenge_id}#invite",
                               f"Invited {len(new)} organisation{'' if len(new) == 1 else 's'}: their members "
                               "find the invitation in their inbox." if new else "They were invited already.")


# ---------------------------------------------------------------- ideas


def _idea_form(request: Request, session: Session, viewer: Viewer, *, challenge: Challenge | None,
               idea: Idea | None = None,
               org: Organisation | None = None, values: dict | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    """The idea form: for a challenge, or (with ``org``) a free idea of the organisation,
    which its members share like any record."""
    view = service.challenge_view(session, viewer, challenges=[challenge])[0] if challenge else None
    shown = dict(values or {"visibility": "private"})
    for name in ("tags", "shared_with"):
        if isinstance(shown.get(name), list):
            shown[name] = (", " if name == "tags" else " ").join(shown[name])
    return render(request, "idea_form.html", {
        "c": view, "idea": idea, "org": org, "values": shown, "errors": errors or {},
        "agreement_options": [(a.id, f"{a.title} (#{a.id})") for a in sharing.list_agreements(session, viewer)]
        if org is not None else []}, status_code=status_code)


@router.get("/challenges/{challenge_id}/ideas/new", response_class=HTMLResponse)
def new_idea(request: Request, challenge_id: RecordId, session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> Response:
    roles.ensure_signed_in(viewer)
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    return _idea_form(request, session, viewer, challenge=challenge)


@router.post("/challenges/{challenge_id}/ideas/new", response_class=HTMLResponse)
def submit_idea(request: Request, challenge_id: RecordId, session: Session = DbSession,
                viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    values: dict = {"challenge": challenge_id, "title": form_text(form, "title"),
                    "description": form_text(form, "description"),
              "tags": form_tags(form), "accept_terms": form.get("accept_terms") == "on",
              "terms_version": form_text(form, "terms_version"),
              "co_authors": form_ids(form, "co_authors", limit=10)}
    try:
        data = IdeaIn(**{k: v for k, v in values.items() if v is not None})
        with session.begin_nested():
            idea = service.submit_idea(session, viewer, data=data)
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title", elsewhere=frozenset({401, 404}))
        values["co_authors"] = " ".join(values["co_authors"])
        return _idea_form(request, session, viewer, challenge=challenge, values=values,
                          errors=errors, status_code=status)
    return redirect_with_flash(request, f"/ideas/{idea.id}", "Idea submitted: you follow it and hear of "
                               "comments and decisions in your inbox.")


@router.get("/orgs/{external_id}/ideas", response_class=HTMLResponse)
def organisation_ideas(request: Request, external_id: str, session: Session = DbSession,
                       viewer: Viewer = CurrentViewer) -> Response:
    """An organisation's free ideas (outside any challenge) that the viewer may read."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    ideas, total = service.list_ideas(session, viewer, organisation_id=organisation.id, limit=200)
    return render(request, "organisation_ideas.html", {
        "org": organisation, "ideas": service.idea_summaries(session, viewer, ideas=ideas), "total": total,
        "may_write": viewer.can_write and organisation.id in viewer.member_of})


@router.get("/orgs/{external_id}/ideas/new", response_class=HTMLResponse)
def new_free_idea(request: Request, external_id: str, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id)
    return _idea_form(request, session, viewer, challenge=None, org=organisation)


@router.post("/orgs/{external_id}/ideas/new", response_class=HTMLResponse)
def submit_free_idea(request: Request, external_id: str, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id)
    values: dict = {"title": form_text(form, "title"), "description": form_text(form, "description"),
                    "tags": form_tags(form), "visibility": form_text(form, "visibility") or "private",
                    "agreement": form_text(form, "agreement"),
                    "shared_with": form_ids(form, "shared_with", limit=200)}
    try:
        data = IdeaIn(organisation=external_id, **{k: values[k] for k in ("title", "description", "tags")
                                                    if values[k] is not None})
        sharing_fields = IdeaPatch(**{k: values[k] for k in ("visibility", "shared_with", "agreement")
                                      if values[k] is not None})
        with session.begin_nested():
            idea = service.submit_idea(session, viewer, data=data)
            if values["visibility"] != "private":
                service.update_idea(session, viewer, idea_id=idea.id, changes=sharing_fields)
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        return _idea_form(request, session, viewer, challenge=None, org=organisation, values=values,
                          errors=errors, status_code=status)
    return redirect_with_flash(request, f"/ideas/{idea.id}", "Idea saved for your organisation"
                               + (": only your members see it." if values["visibility"] == "private" else "."))


@router.post("/ideas/similar", response_class=HTMLResponse)
def similar_ideas(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer,
                  form: FormData = PostedForm) -> Response:
    """Asked by the idea form while its author types (a fragment)."""
    text = f"{form.get('title') or ''}. {form.get('description') or ''}"[:10_200]
    challenge_id = form_text(form, "challenge")
    exclude = form_text(form, "exclude")
    found = []
    if len(text.strip(" .")) >= 3:
        found = service.similar_to(session, viewer, text=text,
                                   challenge_id=int(challenge_id) if challenge_id and challenge_id.isdigit() else None,
                                   exclude=int(exclude) if exclude and exclude.isdigit() else None)
    return render(request, "_similar_ideas.html", {"similar": found})


def _idea_page(request: Request, session: Session, viewer: Viewer, idea_id: int, *, errors: dict[str,
               str] | None = None,
               values: dict | None = None, status_code: int = 200) -> Response:
    idea = service.get_idea(session, viewer, idea_id=idea_id)
    view = service.idea_view(session, viewer, idea=idea)
    events = service.history(session, viewer, idea=idea)
    siblings = []
    if view.may_manage and idea.merged_into_id is None:
        others, _ = service.list_ideas(session, viewer, challenge_id=idea.challenge_id, limit=200) \
            if idea.challenge_id else ([], 0)
        siblings = [(o.id, f"#{o.id} {o.title}") for o in others if o.id != idea.id]
    return render(request, "idea.html", {
        "i": view, "comments": service.comments_of(session, viewer, idea=idea), "events": events,
        "outcome": service.outcome(events), "siblings": siblings,
        "stage_options": [(s, service.stage_name(view.workflow, s)) for s in view.next_stages],
        "errors": errors or {}, "values": values or {}},
        status_code=status_code)


@router.get("/ideas/{idea_id}", response_class=HTMLResponse)
def idea_page(request: Request, idea_id: RecordId, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    """A merged idea's page leads to the idea it went into and says so (its own history
    stays at ?merged=show)."""
    idea = service.get_idea(session, viewer, idea_id=idea_id, log=False)
    if idea.merged_into_id is not None and request.query_params.get("merged") != "show" \
            and service.idea_readable(session, viewer, idea_id=idea.merged_into_id):
        return redirect_with_flash(request, f"/ideas/{idea.merged_into_id}",
                                   f"“{idea.title}” (idea #{idea.id}) was merged into this idea: its supporters, "
                                   f"ratings and comments are here now.")
    return _idea_page(request, session, viewer, idea_id)


def _act(request: Request, session: Session, viewer: Viewer, idea_id: int, action: Callable[[], object], *, done: str,
         field: str, values: dict | None = None, anchor: str = "") -> Response:
    """Run an action from the idea page; a refusal comes back on the page beside its form."""
    service.get_idea(session, viewer, idea_id=idea_id, log=False)
    roles.ensure_can_write(viewer)
    try:
        with session.begin_nested():
            action()
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, field, elsewhere=frozenset({401, 404}))
        return _idea_page(request, session, viewer, idea_id, errors=errors, values=values,
                          status_code=status)
    return redirect_with_flash(request, f"/ideas/{idea_id}{anchor}", done)


@router.post("/ideas/{idea_id}/support", response_class=HTMLResponse)
def support(request: Request, idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
            form: FormData = PostedForm) -> Response:
    supporting = form.get("support") != "withdraw"
    act = service.support if supporting else service.withdraw_support
    return _act(request, session, viewer, idea_id, lambda: act(session, viewer, idea_id=idea_id),
                done="You support this idea." if supporting else "Support withdrawn.", field="support")


@router.post("/ideas/{idea_id}/follow", response_class=HTMLResponse)
def follow(request: Request, idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
           form: FormData = PostedForm) -> Response:
    following = form.get("follow") != "stop"
    return _act(request, session, viewer, idea_id,
                lambda: service.follow(session, viewer, idea_id=idea_id, following=following),
                done="You follow this idea." if following else "You no longer follow this idea.", field="follow")


@router.post("/ideas/{idea_id}/ratings", response_class=HTMLResponse)
def rate(request: Request, idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
         form: FormData = PostedForm) -> Response:
    return _act(request, session, viewer, idea_id, lambda: _rate_from_form(session, viewer, idea_id, form),
                done="Ratings saved.", field="ratings", anchor="#ratings")


def _rate_from_form(session: Session, viewer: Viewer, idea_id: int, form: FormData) -> None:
    """Each ``criterion-<id>`` field chosen is a rating (or an evaluator's score)."""
    for key, value in form.items():
        if key.startswith("criterion-") and str(value).strip():
            criterion, number = key.removeprefix("criterion-"), str(value).strip()
            if not (criterion.isdigit() and len(criterion) < 10 and number.isdigit() and len(number) < 3):
                raise InvalidInput.for_field("ratings", "pick a rating from the list")
            service.rate(session, viewer, idea_id=idea_id, criterion_id=int(criterion), value=int(number))


@router.post("/ideas/{idea_id}/comments", response_class=HTMLResponse)
def comment(request: Request, idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
            form: FormData = PostedForm) -> Response:
    values = {"body": str(form.get("body") or ""), "parent": form_text(form, "parent")}
    return _act(request, session, viewer, idea_id, lambda: service.add_comment(
        session, viewer, idea_id=idea_id, data=CommentIn(**{k: v for k, v in values.items() if v is not None})),
        done="Comment posted.", field="body", values=values, anchor="#discussion")


@router.post("/ideas/{idea_id}/stage", response_class=HTMLResponse)
def move(request: Request, idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
         form: FormData = PostedForm) -> Response:
    stage, reason = str(form.get("stage") or "")[:30], (form_text(form, "reason") or "")[:2000]
    values = {"stage": stage, "reason": reason}
    return _act(request, session, viewer, idea_id, lambda: service.move_idea(
        session, viewer, idea_id=idea_id, stage=stage, reason=reason),
        done="Stage changed: its authors and followers are told.", field="stage", values=values)


@router.post("/ideas/{idea_id}/merge", response_class=HTMLResponse)
def merge(request: Request, idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
          form: FormData = PostedForm) -> Response:
    duplicate = str(form.get("duplicate") or "")
    values = {"duplicate": duplicate, "merge_reason": form_text(form, "merge_reason")}

    def run() -> None:
        if not duplicate.isdigit() or len(duplicate) > 10:
            raise InvalidInput.for_field("duplicate", "pick the duplicate to merge into this idea")
        service.merge_ideas(session, viewer, idea_id=idea_id, duplicate_id=int(duplicate),
                            reason=(values["merge_reason"] or "")[:2000])
    return _act(request, session, viewer, idea_id, run, done="Merged: its supporters, ratings, comments and "
                "authors are now here.", field="duplicate", values=values)


@router.post("/ideas/{idea_id}/co-authorship", response_class=HTMLResponse)
def confirm_co_author(request: Request, idea_id: RecordId, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> Response:
    return _act(request, session, viewer, idea_id,
                lambda: service.confirm_co_author(session, viewer, idea_id=idea_id),
                done="You are now a co-author of this idea.", field="co_authors")


@router.get("/ideas/{idea_id}/edit", response_class=HTMLResponse)
def edit_idea(request: Request, idea_id: RecordId, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    idea = service.get_idea(session, viewer, idea_id=idea_id, log=False)
    service.ensure_author(session, viewer, idea)
    challenge = service.get_challenge(session, viewer, challenge_id=idea.challenge_id) if idea.challenge_id else None
    return _idea_form(request, session, viewer, challenge=challenge, idea=idea, values={
        "title": idea.title, "description": idea.description, "tags": service.tags_list(idea.tags)})


@router.post("/ideas/{idea_id}/edit", response_class=HTMLResponse)
def update_idea(request: Request, idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
                form: FormData = PostedForm) -> Response:
    idea = service.get_idea(session, viewer, idea_id=idea_id, log=False)
    values = {"title": form_text(form, "title"), "description": form_text(form, "description"), "tags": form_tags(form)}
    try:
        with session.begin_nested():
            service.update_idea(session, viewer, idea_id=idea_id, changes=IdeaPatch(**values))
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title", elsewhere=frozenset({401, 404}))
        challenge = service.get_challenge(session, viewer, challenge_id=idea.challenge_id) \
            if idea.challenge_id else None
        return _idea_form(request, session, viewer, challenge=challenge, idea=idea, values=values,
                          errors=errors, status_code=status)
    return redirect_with_flash(request, f"/ideas/{idea_id}", "Idea saved.")



# ---------------------------------------------------------------- evaluation


def _emails(value: object) -> list[str]:
    return str(value or "").replace(",", " ").split()[:50]


def _board_page(request: Request, session: Session, viewer: Viewer, challenge_id: int, *, stage: str | None = None,
                errors: dict[str, str] | None = None, team_values: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    board = evaluation.board(session, viewer, challenge_id=challenge_id, stage=stage)
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    team = evaluation.team_of(session, challenge=challenge) if service.may_manage(viewer, challenge) else None
    stages = list(challenge.workflow["stages"])
    team_stages = [s for s in stages if s in board.stages or (team and s in team.evaluators)] or [board.stage]
    if team is not None and team_values is None:
        team_values = {"gatekeepers": " ".join(p.email for p in team.gatekeepers)} | {
            f"evaluators-{s}": " ".join(p.email for p in people) for s, people in team.evaluators.items()}
    return render(request, "evaluation.html", {
        "b": board, "team": team, "team_values": team_values or {}, "team_stages": team_stages,
        "stage_names": {s: service.stage_name(challenge.workflow, s) for s in stages}, "errors": errors or {}},
        status_code=status_code)


@router.get("/challenges/{challenge_id}/evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, challenge_id: RecordId, stage: str | None = Query(None, max_length=30),
                    session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    return _board_page(request, session, viewer, challenge_id, stage=stage)


@router.post("/challenges/{challenge_id}/team", response_class=HTMLResponse)
def set_team(request: Request, challenge_id: RecordId, stage: str | None = Query(None, max_length=30),
             session: Session = DbSession, viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    values = {k: str(v) for k, v in form.items() if k == "gatekeepers" or k.startswith("evaluators-")}
    teams = {k.removeprefix("evaluators-")[:30]: _emails(v) for k, v in values.items() if k.startswith("evaluators-")}
    try:
        with session.begin_nested():
            evaluation.set_team(session, viewer, challenge_id=challenge_id,
                                gatekeepers=_emails(values.get("gatekeepers")),
                                evaluators={s: people for s, people in teams.items() if people})
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        errors = {(p.field or "gatekeepers").replace("evaluators.", "evaluators-"): p.message for p in error.problems}
        return _board_page(request, session, viewer, challenge_id, stage=stage, team_values=values,
                           errors=errors or {"gatekeepers": error.message}, status_code=error.status_code)
    return redirect_with_flash(request, f"/challenges/{challenge_id}/evaluation" + (f"?stage={stage}" if stage else ""),
                               "Team saved.")


@router.post("/challenges/{challenge_id}/assignments", response_class=HTMLResponse)
def assign(request: Request, challenge_id: RecordId, stage: str = Query("evaluation", max_length=30),
           session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    try:
        with session.begin_nested():
            made = evaluation.assign(session, viewer, challenge_id=challenge_id, stage=stage)
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        return _board_page(request, session, viewer, challenge_id, stage=stage, status_code=error.status_code,
                           errors={"stage": error.problems[0].message if error.problems else error.message})
    said = (f"{counted(made.assigned, 'assignment')} made: the evaluators are told in their inbox."
            if made.assigned else "Every idea in this stage was already assigned.")
    if made.left_out:
        said += (f" {counted(made.left_out, 'idea and evaluator pair')} left out for a conflict of interest: the "
                 "evaluator wrote the idea or, under blind evaluation, works for an organisation that submitted it.")
    return redirect_with_flash(request, f"/challenges/{challenge_id}/evaluation?stage={stage}", said)


@router.post("/challenges/{challenge_id}/evaluation/{idea_id}", response_class=HTMLResponse)
def score(request: Request, challenge_id: RecordId, idea_id: RecordId, stage: str | None = Query(None, max_length=30),
          session: Session = DbSession, viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    back = f"/challenges/{challenge_id}/evaluation" + (f"?stage={stage}" if stage else "")
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    roles.ensure_can_write(viewer)
    evaluation.ensure_on_board(session, viewer, challenge)
    try:
        with session.begin_nested():
            _rate_from_form(session, viewer, idea_id, form)
    except InnonetError as error:
        if error.status_code in (401, 404):
            raise
        return _board_page(request, session, viewer, challenge_id, stage=stage, status_code=error.status_code,
                           errors={"score": error.problems[0].message if error.problems else error.message})
    return redirect_with_flash(request, f"{back}#idea-{idea_id}", "Scores saved.")


# ---------------------------------------------------------------- figures


@router.get("/challenges/{challenge_id}/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, challenge_id: RecordId, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    found = metrics.challenge_metrics(session, viewer, challenge_id=challenge_id)
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    return render(request, "dashboard.html", {
        "c": challenge, "m": found, "most_weekly": max((w.ideas for w in found.ideas_by_week), default=0),
        "most_reached": max((s.reached for s in found.stages), default=0),
        "longest": max((s.median_days or 0 for s in found.stages), default=0)})


@router.get("/challenges/{challenge_id}/metrics.csv")
def metrics_csv(challenge_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    found = metrics.challenge_metrics(session, viewer, challenge_id=challenge_id)
    return csv_download(metrics.metrics_csv(found), f"challenge-{challenge_id}-figures.csv")
