"""Challenges and ideas: who may read and change them, submitting, support, ratings,
discussion, the stage-gate and merging. Services flush, never commit.

Who reads what (docs/security.md):

- a challenge's **brief** follows the sharing policy like any shareable record, except
  that a draft is for its owner's members only; the **cover** (title, cover text, tags,
  dates, terms) of an open call is also for everyone, visitors included;
- an idea in a challenge is read by the challenge's owner, by its authors and their
  organisations, and, when the challenge's submissions are ``shared``, by everyone who
  reads the brief; a free idea is shared by its organisation like any record.

Everything that lists, counts, searches or exports ideas filters with
:func:`idea_condition`, so nothing a viewer may not read is counted or suggested.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from statistics import median

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, literal, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from innonet import roles
from innonet.accounts import service as accounts
from innonet.challenges import similar
from innonet.challenges.models import (
    ANY_TIME_STAGES,
    DEFAULT_DECISIONS,
    DEFAULT_STAGES,
    DEFAULT_TRANSITIONS,
    IP_TERMS,
    SUBMISSION_RULES,
    Assignment,
    Challenge,
    ChallengeInvitation,
    Comment,
    Criterion,
    Evaluator,
    Follow,
    Gatekeeper,
    Idea,
    IdeaAuthor,
    IdeaEvent,
    Rating,
    TermsAcceptance,
    Vote,
    new_text_version,
)
from innonet.challenges.schemas import (
    ChallengeFields,
    ChallengeIn,
    ChallengePatch,
    CommentIn,
    CriterionIn,
    IdeaIn,
    IdeaPatch,
    WorkflowIn,
)
from innonet.db import insert_once, rows_changed, serialise, utcnow
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from innonet.matching import service as matching
from innonet.matching.schemas import NeedQuery
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing
from innonet.sharing.schemas import SharingFields
from innonet.webhooks import service as webhooks

# ---------------------------------------------------------------- tags and workflow


def tags_value(tags: list[str]) -> str:
    return f",{','.join(tags)}," if tags else ""


def tags_list(value: str | None) -> list[str]:
    return [t for t in (value or "").split(",") if t]


def default_workflow() -> dict:
    return {"stages": dict(DEFAULT_STAGES), "transitions": {k: list(v) for k, v in DEFAULT_TRANSITIONS.items()},
            "decisions": list(DEFAULT_DECISIONS)}


def stage_name(workflow: dict | None, stage: str) -> str:
    if stage == "merged":
        return "Merged"
    return (workflow or default_workflow())["stages"].get(stage, stage)


def first_stage(workflow: dict) -> str:
    return next(iter(workflow["stages"]))


def next_stages(workflow: dict, stage: str) -> list[str]:
    """Where an idea in ``stage`` may go: the workflow's moves, and parked or rejected
    (where the workflow has them) from any stage."""
    moves = list(workflow["transitions"].get(stage, []))
    moves += [s for s in ANY_TIME_STAGES if s in workflow["stages"] and s != stage and s not in moves]
    return moves


# ---------------------------------------------------------------- who reads what


def _draft_hidden(viewer: Viewer):
    """Drafts are for the owner's members."""
    return or_(Challenge.state != "draft", Challenge.organisation_id.in_(sorted(viewer.member_of)))


def brief_condition(viewer: Viewer):
    """Challenges whose whole brief the viewer may read."""
    if viewer.is_operator:
        return true()
    return and_(policy.visible_condition(viewer, Challenge), _draft_hidden(viewer))


def cover_condition(viewer: Viewer):
    """Challenges the viewer may know of: the brief, or the cover of an open call."""
    if viewer.is_operator:
        return true()
    return or_(brief_condition(viewer), and_(Challenge.open_call.is_(True), Challenge.state != "draft"))


def idea_condition(viewer: Viewer):
    """SQL condition true for the ideas the viewer may read (see the module's docstring)."""
    if viewer.is_operator:
        return true()
    shared_briefs = select(Challenge.id).where(Challenge.submissions == "shared", brief_condition(viewer))
    allowed = [and_(Idea.challenge_id.is_(None), policy.visible_condition(viewer, Idea)),
               and_(Idea.challenge_id.is_not(None), Idea.challenge_id.in_(shared_briefs))]
    if mine := sorted(viewer.member_of):
        allowed.append(Idea.organisation_id.in_(mine))
        allowed.append(exists().where(IdeaAuthor.idea_id == Idea.id, IdeaAuthor.confirmed_at.is_not(None),
                                      IdeaAuthor.organisation_id.in_(mine)))
    if viewer.user_id is not None:  # a co-author asked to confirm reads it first; an evaluator what they score
        allowed.append(exists().where(IdeaAuthor.idea_id == Idea.id, IdeaAuthor.user_id == viewer.user_id))
        allowed.append(_assigned_condition(viewer))
    return or_(*allowed)


def _assigned_condition(viewer: Viewer):
    """Ideas assigned to the viewer while they are still on the stage's evaluator team and
    read the challenge's brief under today's sharing rule (an NDA ended, or a place on the
    team lost, takes an assignment's access away at once)."""
    on_team = exists().where(Evaluator.challenge_id == Idea.challenge_id, Evaluator.user_id == viewer.user_id,
                             Evaluator.stage == Assignment.stage).correlate_except(Evaluator)
    return and_(Idea.challenge_id.in_(select(Challenge.id).where(brief_condition(viewer))),
                exists().where(Assignment.idea_id == Idea.id, Assignment.user_id == viewer.user_id, on_team))


def _emit(session: Session, challenge: Challenge, event: str, *, idea: Idea | None = None,
          extra: dict | None = None) -> None:
    """Tell the owner's webhooks (the owner reads every idea of its challenges)."""
    data: dict = {"challenge": {"id": challenge.id, "title": challenge.title, "state": challenge.state,
                                "url": f"/challenges/{challenge.id}"}}
    if idea is not None:
        data["idea"] = {"id": idea.id, "title": idea.title, "stage": idea.stage, "url": f"/ideas/{idea.id}"}
    webhooks.emit(session, organisation_id=challenge.organisation_id, event=event, data=data | (extra or {}))


def idea_readable(session: Session, viewer: Viewer, *, idea_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Idea.id == idea_id, idea_condition(viewer)))))


def readable_idea_titles(session: Session, viewer: Viewer, *, ids: list[int]) -> dict[int, str]:
    """Id -> title of those of these ideas the viewer may read."""
    return dict(session.execute(select(Idea.id, Idea.title).where(Idea.id.in_(ids), idea_condition(viewer))).all())


def known_challenge_titles(session: Session, viewer: Viewer, *, ids: list[int]) -> dict[int, str]:
    """Id -> title of those of these challenges the viewer may know of."""
    return dict(session.execute(select(Challenge.id, Challenge.title).where(
        Challenge.id.in_(ids), cover_condition(viewer))).all())


def challenge_known(session: Session, viewer: Viewer, *, challenge_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Challenge.id == challenge_id, cover_condition(viewer)))))


def _audit(session: Session, viewer: Viewer, *, action: str, items: list, detail: str | None = None) -> None:
    """Challenges and ideas are logged for their owner's admins; public ones are not
    logged when read."""
    sharing.record_events(session, viewer, action=action, detail=detail, events=[
        (i.organisation_id, i.share_type, i.id) for i in items
        if action != "read" or i.visibility != "public"])


def audit_change(session: Session, viewer: Viewer, challenge: Challenge, *, detail: str) -> None:
    _audit(session, viewer, action="update", items=[challenge], detail=detail[:500])


# ---------------------------------------------------------------- challenges


def _criteria_rows(challenge: Challenge, workflow: dict, criteria: list[CriterionIn]) -> list[dict]:
    rows = []
    for position, c in enumerate(criteria):
        if c.stage is not None and c.stage not in workflow["stages"]:
            raise InvalidInput.for_field(f"criteria.{position}.stage", f"no stage {c.stage[:30]!r} in the workflow")
        if c.stage is None and c.scale != 5:
            raise InvalidInput.for_field(f"criteria.{position}.scale",
                                         "everyone's ratings go from 1 to 5; other scales are for evaluators")
        rows.append({"challenge_id": challenge.id, "position": position, **c.model_dump()})
    names = [(r["stage"], r["name"].casefold()) for r in rows]
    if len(set(names)) < len(names):
        raise InvalidInput.for_field("criteria", "two criteria of the same stage have the same name")
    return rows


def _set_criteria(session: Session, challenge: Challenge, criteria: list[CriterionIn]) -> None:
    rows = _criteria_rows(challenge, challenge.workflow, criteria)
    keep = {(r["stage"], r["name"]) for r in rows}
    existing = session.scalars(select(Criterion).where(Criterion.challenge_id == challenge.id)).all()
    for criterion in existing:  # ratings on a criterion that stays are kept
        if (criterion.stage, criterion.name) not in keep:
            session.delete(criterion)
    by_key = {(c.stage, c.name): c for c in existing}
    for row in rows:
        if (found := by_key.get((row["stage"], row["name"]))) is not None:
            found.weight, found.scale, found.position = row["weight"], row["scale"], row["position"]
        else:
            session.add(Criterion(**row))
    session.flush()


def _workflow_value(workflow: WorkflowIn | None) -> dict:
    return workflow.model_dump() if workflow is not None else default_workflow()


def create_challenge(session: Session, viewer: Viewer, *, data: ChallengeIn) -> Challenge:
    """Pose a challenge for an organisation (its members may); a draft until opened."""
    owner = organisations.get_organisation(session, external_id=data.organisation)
    roles.ensure_insider(viewer, owner.id)
    fields = data.model_dump(include=set(ChallengeFields.model_fields))
    challenge = Challenge(organisation_id=owner.id, created_by_id=viewer.user_id, state="draft",
                          workflow=_workflow_value(data.workflow),
                          **fields | {"tags": tags_value(data.tags)})
    sharing.add_item(session, viewer, item=challenge, data=data)
    _set_criteria(session, challenge, data.criteria)
    return challenge


def get_challenge(session: Session, viewer: Viewer, *, challenge_id: int,
                  for_change: bool = False) -> Challenge:
    """A challenge the viewer may know of (NotFound otherwise, as if it did not exist);
    for a change, the viewer must be one of the owner's members."""
    challenge = session.scalar(select(Challenge).where(Challenge.id == challenge_id,
                                                       cover_condition(viewer)))
    if challenge is None:
        raise NotFound(f"No challenge with id {challenge_id}.")
    if for_change:
        roles.ensure_insider(viewer, challenge.organisation_id)
    else:
        _audit(session, viewer, action="read", items=[challenge])
    return challenge


def may_read_brief(session: Session, viewer: Viewer, challenge: Challenge) -> bool:
    return bool(session.scalar(select(exists().where(Challenge.id == challenge.id,
                                                     brief_condition(viewer)))))


def may_manage(viewer: Viewer, challenge: Challenge) -> bool:
    """The owner's members run the challenge: its stages, merges and invitations."""
    return viewer.is_operator or challenge.organisation_id in viewer.member_of


def may_decide(session: Session, viewer: Viewer, challenge: Challenge) -> bool:
    """The gatekeepers: the owner's administrators and the people the team named."""
    return viewer.admin_of(challenge.organisation_id) or viewer.user_id is not None and bool(session.scalar(
        select(exists().where(Gatekeeper.challenge_id == challenge.id, Gatekeeper.user_id == viewer.user_id))))


def _may_manage_idea(viewer: Viewer, idea: Idea, challenge: Challenge | None) -> bool:
    """The challenge's team, or for a free idea its organisation's members."""
    if challenge is not None:
        return may_manage(viewer, challenge)
    return viewer.is_operator or idea.organisation_id in viewer.member_of


def _may_decide_idea(session: Session, viewer: Viewer, idea: Idea, challenge: Challenge | None) -> bool:
    return may_decide(session, viewer, challenge) if challenge is not None else viewer.admin_of(idea.organisation_id)


def is_open_for_ideas(challenge: Challenge, today: date) -> bool:
    return challenge.state == "open" and (challenge.opens_on is None or challenge.opens_on <= today) \
        and (challenge.closes_on is None or today <= challenge.closes_on)


def may_submit(session: Session, viewer: Viewer, challenge: Challenge, *, brief: bool | None = None) -> bool:
    """Anyone who reads the brief (``brief``, when already known), and for an open call
    anyone with an account, while the challenge is open."""
    if not viewer.signed_in or not viewer.can_write or not is_open_for_ideas(challenge, viewer.today):
        return False
    if challenge.open_call and viewer.roles:
        return True
    return brief if brief is not None else may_read_brief(session, viewer, challenge)


def list_challenges(session: Session, viewer: Viewer, *, organisation: str | None = None,
                    state: str | None = None, limit: int = 200) -> list[Challenge]:
    """Challenges the viewer may know of, open ones first, newest first."""
    query = select(Challenge).where(cover_condition(viewer))
    if organisation is not None:
        query = query.where(Challenge.organisation_id == organisations.get_organisation(
            session, external_id=organisation).id)
    if state is not None:
        query = query.where(Challenge.state == state)
    return list(session.scalars(query.order_by((Challenge.state == "open").desc(),
                                               Challenge.created_at.desc(), Challenge.id.desc())
                                .limit(limit)))


def update_challenge(session: Session, viewer: Viewer, *, challenge_id: int,
                     changes: ChallengePatch) -> Challenge:
    """Change a challenge (its owner's members); opening, closing and deciding are
    changes of ``state``. Changed IP or further terms raise the terms' version."""
    challenge = get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    values = changes.model_dump(exclude_unset=True)
    sharing_changes = {k: values.pop(k) for k in list(values) if k in SharingFields.model_fields}
    workflow, criteria = values.pop("workflow", None), values.pop("criteria", None)
    state = values.pop("state", None)
    if "tags" in values:
        values["tags"] = tags_value(values["tags"])
    for required in ("title", "problem", "open_call", "submissions", "ip_terms", "blind"):
        if required in values and values[required] is None:
            raise InvalidInput.for_field(required, "may not be empty")
    opens = values.get("opens_on", challenge.opens_on)
    closes = values.get("closes_on", challenge.closes_on)
    if opens and closes and closes < opens:
        raise InvalidInput.for_field("closes_on", "the closing date is before the opening date")
    terms_before = (challenge.ip_terms, challenge.terms_text, challenge.submissions)
    changed = [name for name, value in values.items() if getattr(challenge, name) != value]
    for name, value in values.items():
        setattr(challenge, name, value)
    if (challenge.ip_terms, challenge.terms_text, challenge.submissions) != terms_before:
        challenge.terms_version += 1
    if workflow is not None:
        _change_workflow(session, challenge, changes.workflow)
        changed.append("workflow")
    if criteria is not None:
        _set_criteria(session, challenge, changes.criteria or [])
        changed.append("criteria")
    if state is not None and state != challenge.state:
        changed.append(f"state: {challenge.state} → {state}")
        challenge.state = state
        if state in ("open", "closed"):
            _emit(session, challenge, f"challenge.{'opened' if state == 'open' else 'closed'}")
    session.flush()
    sharing.change_sharing(session, viewer, item=challenge, changes=sharing_changes)
    if changed:
        _audit(session, viewer, action="update", items=[challenge], detail="; ".join(changed)[:500])
    return challenge


def _change_workflow(session: Session, challenge: Challenge, workflow: WorkflowIn | None) -> None:
    """A new workflow may drop a stage only when no idea is in it."""
    new = _workflow_value(workflow)
    in_use = set(session.scalars(select(Idea.stage).where(
        Idea.challenge_id == challenge.id, Idea.merged_into_id.is_(None)).distinct()))
    if missing := sorted(in_use - set(new["stages"])):
        raise Conflict(f"Ideas are in the stage {missing[0]!r}: move them before removing it.")
    challenge.workflow = new


def delete_challenge(session: Session, viewer: Viewer, *, challenge_id: int) -> None:
    """Delete a challenge with its ideas (the owner's administrators)."""
    challenge = get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    roles.ensure_insider(viewer, challenge.organisation_id, admin=True)
    sharing.delete_item(session, viewer, item=challenge)


def criteria_of(session: Session, *, challenge_ids) -> dict[int, list[Criterion]]:
    out: dict[int, list[Criterion]] = defaultdict(list)
    for c in session.scalars(select(Criterion).where(Criterion.challenge_id.in_(list(challenge_ids)))
                             .order_by(Criterion.position, Criterion.id)):
        out[c.challenge_id].append(c)
    return out


def accepted_terms(session: Session, viewer: Viewer, challenge: Challenge) -> bool:
    return viewer.user_id is not None and bool(session.scalar(select(exists().where(
        TermsAcceptance.challenge_id == challenge.id, TermsAcceptance.user_id == viewer.user_id,
        TermsAcceptance.version == challenge.terms_version))))


def accept_terms(session: Session, viewer: Viewer, *, challenge: Challenge, version: int | None) -> None:
    """Record that the viewer accepts the terms now in force (once per version)."""
    if version is not None and version != challenge.terms_version:
        raise Conflict(f"The terms changed (now version {challenge.terms_version}); read them again.")
    if not accepted_terms(session, viewer, challenge):  # or a moment ago, in another request
        insert_once(session, TermsAcceptance(challenge_id=challenge.id, user_id=viewer.user_id,
                                              version=challenge.terms_version))


def _readable_in(session: Session, viewer: Viewer, challenge_ids: list[int]):
    """idea_condition for the ideas of these challenges, simpler where it can be: the
    viewer reads every idea of a challenge it runs, or whose brief it reads when the
    submissions are shared, with no test per idea (the same rows, found faster)."""
    if viewer.is_operator:
        return true()
    whole = list(session.scalars(select(Challenge.id).where(
        Challenge.id.in_(challenge_ids), or_(Challenge.organisation_id.in_(sorted(viewer.member_of)),
                                             and_(Challenge.submissions == "shared", brief_condition(viewer))))))
    if len(whole) == len(set(challenge_ids)):
        return Idea.challenge_id.in_(whole)
    return or_(Idea.challenge_id.in_(whole), idea_condition(viewer)) if whole else idea_condition(viewer)


def count_ideas(session: Session, viewer: Viewer, *, challenge_ids) -> dict[int, int]:
    """Ideas the viewer may read per challenge (merged ones aside)."""
    rows = session.execute(select(Idea.challenge_id, func.count()).where(
        Idea.challenge_id.in_(list(challenge_ids)), Idea.merged_into_id.is_(None),
        _readable_in(session, viewer, list(challenge_ids))).group_by(Idea.challenge_id)).all()
    return {c: n for c, n in rows if c is not None}


def challenge_view(session: Session, viewer: Viewer, *, challenges: list[Challenge]) -> list[dict]:
    """Challenges shaped like ChallengeOut: the brief only for those who may read it."""
    if not challenges:
        return []
    ids = [c.id for c in challenges]
    by_id = organisations.organisations_by_id(session, ids=[c.organisation_id for c in challenges])
    briefs = set(session.scalars(select(Challenge.id).where(Challenge.id.in_(ids), brief_condition(viewer))))
    shares = sharing.sharing_view(session, viewer, items=challenges)
    criteria = criteria_of(session, challenge_ids=ids)
    counts = count_ideas(session, viewer, challenge_ids=ids)
    accepted = set(session.scalars(select(TermsAcceptance.challenge_id).join(
        Challenge, Challenge.id == TermsAcceptance.challenge_id).where(
        TermsAcceptance.challenge_id.in_(ids), TermsAcceptance.user_id == viewer.user_id,
        TermsAcceptance.version == Challenge.terms_version))) if viewer.user_id else set()
    out = []
    for c in challenges:
        brief = c.id in briefs
        out.append(shares[c.id] | {
            "id": c.id, "organisation": by_id[c.organisation_id], "title": c.title,
            "brief_visible": brief, "problem": c.problem if brief else None,
            "sought": c.sought if brief else None, "offered": c.offered if brief else None,
            "cover_text": c.cover_text, "tags": tags_list(c.tags), "opens_on": c.opens_on,
            "closes_on": c.closes_on, "state": c.state, "open_call": c.open_call, "blind": c.blind,
            "workflow": c.workflow, "criteria": criteria[c.id] if brief else [],
            "terms": {"version": c.terms_version, "ip_terms": c.ip_terms, "ip_terms_text": IP_TERMS[c.ip_terms],
                      "submissions": c.submissions, "submissions_text": SUBMISSION_RULES[c.submissions],
                      "terms_text": c.terms_text, "accepted": c.id in accepted},
            "ideas": counts.get(c.id, 0), "may_submit": may_submit(session, viewer, c, brief=brief),
            "may_manage": may_manage(viewer, c),
            "created_at": c.created_at, "updated_at": c.updated_at})
    return out


def invite_organisations(session: Session, viewer: Viewer, *, challenge_id: int,
                         external_ids: list[str]) -> list[int]:
    """Invite organisations to contribute to one challenge (its owner's members): their
    members are told in their inbox. With visibility ``partners`` they are added to those
    it is shared with, so they read the brief (while its agreement is in force, if any).
    Returns the ids of the organisations newly invited."""
    challenge = get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    if challenge.visibility == "private":
        raise Conflict("The challenge is private to your organisation: share it with partners, "
                       "the network or the public before inviting others.")
    found = organisations.ids_by_external_id(session, external_ids=external_ids)
    if missing := [e for e in external_ids if e not in found]:
        raise InvalidInput.for_field("organisations", f"no organisation with id {missing[0]!r}")
    wanted = [found[e] for e in dict.fromkeys(external_ids) if found[e] != challenge.organisation_id]
    if challenge.visibility == "partners":
        current = sharing.sharing_view(session, viewer, items=[challenge])[challenge.id]
        named = [o.external_id for o in current["shared_with"]]
        add = [e for e in dict.fromkeys(external_ids) if e not in named and found[e] != challenge.organisation_id]
        if add:
            sharing.change_sharing(session, viewer, item=challenge,
                                   changes={"shared_with": named + add})
    already = set(session.scalars(select(ChallengeInvitation.organisation_id).where(
        ChallengeInvitation.challenge_id == challenge.id)))
    new = [o for o in wanted if o not in already]
    if new:
        session.execute(insert(ChallengeInvitation), [
            {"challenge_id": challenge.id, "organisation_id": o, "invited_by_id": viewer.user_id,
             "created_at": utcnow()} for o in new])
        owner = organisations.organisations_by_id(session, ids=[challenge.organisation_id])[challenge.organisation_id]
        gate = " (details once the agreement is in force)" if challenge.agreement_id else ""
        accounts.notify(session, organisation_ids=new, kind="challenge_invitation",
                        link=f"/challenges/{challenge.id}",
                        message=f"{owner.name} invites you to contribute ideas to the challenge "
                                f"“{challenge.title}”{gate}.")
        _audit(session, viewer, action="update", items=[challenge],
               detail=f"invited {len(new)} organisation{'s' if len(new) > 1 else ''}")
    return new


def propose_solvers(session: Session, viewer: Viewer, *, challenge_id: int, k: int = 10):
    """The organisations the partner finder expects to contribute, for the challenge's
    team: its problem statement (and what is sought) is the need, with the finder's usual
    explanations factor by factor."""
    challenge = get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    owner = organisations.organisations_by_id(session, ids=[challenge.organisation_id])[challenge.organisation_id]
    need = " ".join(part for part in (challenge.title + ".", challenge.problem, challenge.sought or "") if part)
    return matching.recommendations(session, viewer, external_id=owner.external_id,
                                    query=NeedQuery(need=need[:5000], k=k))


def invited_organisations(session: Session, *, challenge: Challenge) -> list:
    ids = list(session.scalars(select(ChallengeInvitation.organisation_id).where(
        ChallengeInvitation.challenge_id == challenge.id).order_by(ChallengeInvitation.id)))
    by_id = organisations.organisations_by_id(session, ids=ids)
    return [by_id[i] for i in ids]


# ---------------------------------------------------------------- ideas


def _lock_idea(session: Session, idea_id: int) -> None:
    """Changes to one idea's support, ratings, discussion, stage or merge run one after
    the other (a merge moving votes must not lose one cast meanwhile)."""
    serialise(session, f"idea:{idea_id}")


def get_idea(session: Session, viewer: Viewer, *, idea_id: int, log: bool = True) -> Idea:
    """An idea the viewer may read (NotFound otherwise, as if it did not exist)."""
    idea = session.scalar(select(Idea).where(Idea.id == idea_id, idea_condition(viewer)))
    if idea is None:
        raise NotFound(f"No idea with id {idea_id}.")
    if log:
        _audit(session, viewer, action="read", items=[idea])
    return idea


def _challenge_of(session: Session, idea: Idea) -> Challenge | None:
    return session.get(Challenge, idea.challenge_id) if idea.challenge_id is not None else None


def workflow_of(session: Session, idea: Idea) -> dict:
    challenge = _challenge_of(session, idea)
    return challenge.workflow if challenge is not None else default_workflow()


def _author_organisation(session: Session, viewer: Viewer, external_id: str | None) -> int:
    """The organisation on whose behalf the viewer writes: one of theirs."""
    mine = [o for o, role in sorted(viewer.roles.items())]
    if external_id is None:
        if not mine:
            raise Forbidden("Only people who belong to an organisation may submit ideas.")
        return sorted(viewer.member_of)[0] if viewer.member_of else mine[0]
    organisation = organisations.get_organisation(session, external_id=external_id)
    if organisation.id not in viewer.roles:
        raise InvalidInput.for_field("organisation", "you may only submit on behalf of your own organisations")
    return organisation.id


def submit_idea(session: Session, viewer: Viewer, *, data: IdeaIn) -> Idea:
    """Submit an idea to a challenge (accepting its terms), or a free idea of the viewer's
    organisation (private to it until shared). The author follows it."""
    roles.ensure_can_write(viewer)
    if viewer.user_id is None:
        raise Forbidden("Ideas are submitted by people: sign in.")
    author_org = _author_organisation(session, viewer, data.organisation)
    challenge = None
    if data.challenge is not None:
        challenge = session.scalar(select(Challenge).where(Challenge.id == data.challenge,
                                                           cover_condition(viewer)))
        if challenge is None:  # as if it did not exist
            raise NotFound(f"No challenge with id {data.challenge}.",
                           [Problem(f"no challenge with id {data.challenge}", field="challenge")])
        if not is_open_for_ideas(challenge, viewer.today):
            raise Conflict("The challenge is not open for ideas"
                           + (f" (it closed on {challenge.closes_on})." if challenge.closes_on
                              and challenge.closes_on < viewer.today else "."))
        if not may_submit(session, viewer, challenge):
            raise Forbidden("You may not submit ideas to this challenge.")
        if not data.accept_terms:
            raise InvalidInput.for_field("accept_terms", "accept the challenge's terms to submit")
        accept_terms(session, viewer, challenge=challenge, version=data.terms_version)
        owner, stage = challenge.organisation_id, first_stage(challenge.workflow)
    else:
        roles.ensure_insider(viewer, author_org)
        owner, stage = author_org, first_stage(default_workflow())
    idea = Idea(organisation_id=owner, challenge_id=data.challenge, title=data.title,
                description=data.description, tags=tags_value(data.tags), stage=stage,
                created_by_id=viewer.user_id, visibility="private",
                meaning=similar.meaning_of(data.title, data.description))
    session.add(idea)
    session.flush()
    now = utcnow()
    session.add(IdeaAuthor(idea_id=idea.id, user_id=viewer.user_id, organisation_id=author_org,
                           confirmed_at=now, created_at=now))
    session.add(Follow(idea_id=idea.id, user_id=viewer.user_id))
    session.add(IdeaEvent(idea_id=idea.id, user_id=viewer.user_id, kind="submitted", to_stage=stage))
    session.flush()
    if data.co_authors:
        _invite_co_authors(session, viewer, idea=idea, emails=data.co_authors)
    _audit(session, viewer, action="create", items=[idea])
    if challenge is not None:
        _emit(session, challenge, "idea.created", idea=idea)
    return idea


def _invite_co_authors(session: Session, viewer: Viewer, *, idea: Idea, emails: list[str]) -> None:
    """Ask people who may read the idea to co-author it; each confirms on the idea's page."""
    addresses = [accounts.normalise_email(e, field="co_authors") for e in emails]
    users = accounts.users_by_email(session, emails=addresses)
    for email in addresses:
        user = users.get(email)
        if user is None or not _may_read(session, user.id, idea, viewer.today):
            raise InvalidInput.for_field("co_authors", f"{email} has no account that may see this idea")
    existing = set(session.scalars(select(IdeaAuthor.user_id).where(IdeaAuthor.idea_id == idea.id)))
    for email in dict.fromkeys(addresses):
        user = users[email]
        if user.id in existing:
            continue
        role_of = accounts.roles_of(session, user_id=user.id)
        session.add(IdeaAuthor(idea_id=idea.id, user_id=user.id, invited_by_id=viewer.user_id,
                               organisation_id=sorted(role_of)[0]))
        accounts.notify_people(session, user_ids=[user.id], kind="co_author", link=f"/ideas/{idea.id}",
                               message=f"You are asked to co-author the idea “{idea.title}”: confirm on its page.")
    session.flush()


def _may_read(session: Session, user_id: int, idea: Idea, today: date) -> bool:
    """Whether a person (not the viewer) may read the idea, by the same rule."""
    person = accounts.viewer_of(session, user_id=user_id, today=today, channel="page")
    return bool(session.scalar(select(exists().where(Idea.id == idea.id, idea_condition(person)))))


def confirm_co_author(session: Session, viewer: Viewer, *, idea_id: int) -> Idea:
    """The invited person confirms they co-author the idea."""
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    roles.ensure_can_write(viewer)
    changed = session.execute(update(IdeaAuthor).where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.user_id == viewer.user_id,
        IdeaAuthor.confirmed_at.is_(None)).values(confirmed_at=utcnow()))
    if not rows_changed(changed):
        raise Conflict("You were not asked to co-author this idea, or already confirmed.")
    _follow(session, idea.id, viewer.user_id)
    return idea


def _is_author(session: Session, viewer: Viewer, idea: Idea) -> bool:
    return viewer.user_id is not None and bool(session.scalar(select(exists().where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.user_id == viewer.user_id,
        IdeaAuthor.confirmed_at.is_not(None)))))


def ensure_author(session: Session, viewer: Viewer, idea: Idea) -> None:
    roles.ensure_can_write(viewer)
    if not _is_author(session, viewer, idea):
        raise Forbidden("Only the idea's authors may edit it.")


def update_idea(session: Session, viewer: Viewer, *, idea_id: int, changes: IdeaPatch) -> Idea:
    """Its confirmed authors edit an idea; the page then says "edited"."""
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    ensure_author(session, viewer, idea)
    if idea.merged_into_id is not None:
        raise Conflict(f"This idea was merged into idea {idea.merged_into_id}: edit that one.")
    values = changes.model_dump(exclude_unset=True)
    sharing_changes = {k: values.pop(k) for k in list(values) if k in SharingFields.model_fields}
    for name in ("title", "description"):
        if name in values and values[name] is None:
            raise InvalidInput.for_field(name, "may not be empty")
    if "tags" in values:
        values["tags"] = tags_value(values["tags"])
    if sharing_changes:
        if idea.challenge_id is not None:
            raise InvalidInput.for_field("visibility", "an idea in a challenge is read as its challenge says")
        roles.ensure_insider(viewer, idea.organisation_id)
        sharing.change_sharing(session, viewer, item=idea, changes=sharing_changes)
    changed = [n for n, v in values.items() if getattr(idea, n) != v]
    if changed:
        for name in changed:
            setattr(idea, name, values[name])
        idea.edited_at = utcnow()
        if {"title", "description"} & set(changed):
            idea.meaning = similar.meaning_of(idea.title, idea.description)
            idea.text_version = new_text_version()
        session.add(IdeaEvent(idea_id=idea.id, user_id=viewer.user_id, kind="edited",
                              reason=", ".join(changed)))
        session.flush()
        _audit(session, viewer, action="update", items=[idea], detail=f"edited: {', '.join(changed)}")
    return idea


def list_ideas(session: Session, viewer: Viewer, *, challenge_id: int | None = None,
               organisation_id: int | None = None, stage: str | None = None, tag: str | None = None,
               order: str = "newest", limit: int = 50, offset: int = 0) -> tuple[list[Idea], int]:
    """Ideas the viewer may read (merged ones aside), and how many there are in all.
    ``order``: newest, supported (most supporters first) or discussed."""
    conditions: list[ColumnElement[bool]] = [Idea.merged_into_id.is_(None)]
    if challenge_id is not None:
        conditions += [Idea.challenge_id == challenge_id, _readable_in(session, viewer, [challenge_id])]
    else:
        conditions.append(idea_condition(viewer))
    if organisation_id is not None:
        conditions.append(and_(Idea.challenge_id.is_(None), Idea.organisation_id == organisation_id))
    if stage is not None:
        conditions.append(Idea.stage == stage)
    if tag:
        conditions.append(Idea.tags.contains(f",{tag.casefold()},", autoescape=True))
    total = session.scalar(select(func.count()).select_from(Idea).where(*conditions)) or 0
    query = select(Idea).where(*conditions)
    if order == "supported":
        query = query.order_by(Idea.supporters.desc())
    elif order == "discussed":
        query = query.order_by(Idea.comments.desc())
    ideas = list(session.scalars(query.order_by(Idea.created_at.desc(), Idea.id.desc())
                                 .limit(limit).offset(offset)))
    return ideas, total


def similar_to(session: Session, viewer: Viewer, *, text: str, challenge_id: int | None = None,
               exclude: int | None = None, limit: int = 5) -> list[dict]:
    """The ideas the viewer may read that are most similar to ``text`` (in the challenge,
    when one is named), shaped like SimilarOut."""
    candidates = select(Idea.id, Idea.text_version).where(Idea.merged_into_id.is_(None))
    if challenge_id is not None:
        candidates = candidates.where(Idea.challenge_id == challenge_id, _readable_in(session, viewer, [challenge_id]))
    else:
        candidates = candidates.where(idea_condition(viewer))
    if exclude is not None:
        candidates = candidates.where(Idea.id != exclude)
    found = similar.similar_ideas(session, text=text, candidates=candidates, limit=limit)
    if not found:
        return []
    ideas = {i.id: i for i in session.scalars(select(Idea).where(Idea.id.in_([i for i, _ in found])))}
    summaries = {s["id"]: s for s in idea_summaries(session, viewer, ideas=list(ideas.values()))}
    return [summaries[i] | {"similarity": round(score, 3)} for i, score in found]


def _counts(session: Session, model, idea_ids: list[int]) -> dict[int, int]:
    return dict(session.execute(select(model.idea_id, func.count()).where(
        model.idea_id.in_(idea_ids)).group_by(model.idea_id)).all())


def idea_summaries(session: Session, viewer: Viewer, *, ideas: list[Idea]) -> list[dict]:
    """Ideas shaped like IdeaSummary, with their support and discussion counted."""
    workflows = {c.id: c.workflow for c in session.scalars(select(Challenge).where(
        Challenge.id.in_({i.challenge_id for i in ideas if i.challenge_id})))}
    return [{"id": i.id, "title": i.title, "challenge": i.challenge_id, "stage": i.stage,
             "stage_name": stage_name(workflows.get(i.challenge_id or 0), i.stage),
             "tags": tags_list(i.tags), "supporters": i.supporters, "comments": i.comments,
             "created_at": i.created_at} for i in ideas]


def authors_hidden(session: Session, viewer: Viewer, idea: Idea, challenge: Challenge | None) -> bool:
    """Blind evaluation: whoever is or was on the challenge's evaluator team does not learn
    who wrote an idea (name, e-mail or organisation) on any page, route, notification or
    mail, unless they wrote it or decide (gatekeepers know)."""
    if challenge is None or not challenge.blind or viewer.user_id is None:
        return False
    evaluates = session.scalar(select(or_(
        exists().where(Evaluator.challenge_id == challenge.id, Evaluator.user_id == viewer.user_id),
        exists().where(Assignment.user_id == viewer.user_id, Assignment.idea_id.in_(
            select(Idea.id).where(Idea.challenge_id == challenge.id))))))
    return bool(evaluates) and not _is_author(session, viewer, idea) and not may_decide(session, viewer, challenge)


def _blind_to_authors(session: Session, idea: Idea, user_ids, today: date) -> set[int]:
    """Those of these people from whom blind evaluation hides the idea's authors."""
    challenge = _challenge_of(session, idea)
    if challenge is None or not challenge.blind:
        return set()
    return {u for u in user_ids if authors_hidden(
        session, accounts.viewer_of(session, user_id=u, today=today, channel="page"), idea, challenge)}


def _tell_of_author(session: Session, viewer: Viewer, idea: Idea, *, user_ids, kind: str, link: str,
                    message: Callable[[str], str]) -> None:
    """Tell people what the viewer did, in ``message(who)``; those from whom blind evaluation
    hides the authors read "An author" when the viewer is one."""
    people = set(user_ids)
    blind = _blind_to_authors(session, idea, people, viewer.today) if _is_author(session, viewer, idea) else set()
    for group, who in ((people - blind, _name_of(session, viewer)), (blind, "An author")):
        if group:
            accounts.notify_people(session, user_ids=sorted(group), kind=kind, link=link, message=message(who))


def is_evaluator(session: Session, viewer: Viewer, challenge: Challenge, *, stage: str | None = None) -> bool:
    """On the challenge's evaluator team (of ``stage``, if given) and reading its brief today."""
    team = [Evaluator.challenge_id == challenge.id, Evaluator.user_id == viewer.user_id]
    if stage is not None:
        team.append(Evaluator.stage == stage)
    return viewer.user_id is not None and bool(session.scalar(select(exists().where(*team)))) \
        and may_read_brief(session, viewer, challenge)


def idea_authors(session: Session, *, idea_ids: list[int]) -> dict[int, list[dict]]:
    rows = session.scalars(select(IdeaAuthor).where(IdeaAuthor.idea_id.in_(idea_ids))
                           .order_by(IdeaAuthor.id)).all()
    by_id = organisations.organisations_by_id(session, ids=[a.organisation_id for a in rows])
    people = accounts.people_by_id(session, ids=[a.user_id for a in rows])
    out: dict[int, list[dict]] = defaultdict(list)
    for author in rows:
        name, email = people[author.user_id]
        out[author.idea_id].append({"user_id": author.user_id, "name": name or email, "email": email,
                                    "organisation": by_id[author.organisation_id],
                                    "confirmed": author.confirmed_at is not None})
    return out


def idea_view(session: Session, viewer: Viewer, *, idea: Idea) -> dict:
    """One idea shaped like IdeaOut, with what the viewer did and may do."""
    challenge = _challenge_of(session, idea)
    workflow = challenge.workflow if challenge is not None else default_workflow()
    summary = idea_summaries(session, viewer, ideas=[idea])[0]
    criteria = criteria_of(session, challenge_ids=[idea.challenge_id]).get(idea.challenge_id or 0, []) \
        if idea.challenge_id else []
    public = [c for c in criteria if c.stage is None]
    means: dict[int, float] = dict(session.execute(select(Rating.criterion_id, func.avg(Rating.value)).where(
        Rating.idea_id == idea.id, Rating.criterion_id.in_([c.id for c in public]))
        .group_by(Rating.criterion_id)).all())
    mine = dict(session.execute(select(Rating.criterion_id, Rating.value).where(
        Rating.idea_id == idea.id, Rating.user_id == viewer.user_id)).all()) if viewer.user_id else {}
    hidden = authors_hidden(session, viewer, idea, challenge)
    authors = idea_authors(session, idea_ids=[idea.id])[idea.id]
    manage = _may_manage_idea(viewer, idea, challenge)
    owner = organisations.organisations_by_id(session, ids=[idea.organisation_id])[idea.organisation_id]
    return summary | {
        "description": idea.description, "organisation": None if hidden else owner,
        "authors": None if hidden else authors,
        "followers": _counts(session, Follow, [idea.id]).get(idea.id, 0),
        "ratings": {c.name: (round(float(means[c.id]), 2) if c.id in means else None) for c in public},
        "criteria": public,
        "supported": _has(session, Vote, idea.id, viewer.user_id),
        "following": _has(session, Follow, idea.id, viewer.user_id),
        "your_ratings": {c.name: mine[c.id] for c in public if c.id in mine},
        "merged_into": idea.merged_into_id, "edited_at": idea.edited_at,
        "next_stages": next_stages(workflow, idea.stage) if manage and idea.merged_into_id is None else [],
        "workflow": workflow, "may_manage": manage,
        "may_decide": _may_decide_idea(session, viewer, idea, challenge),
        "is_author": _is_author(session, viewer, idea),
        "asked_to_co_author": viewer.user_id is not None and any(
            a["user_id"] == viewer.user_id and not a["confirmed"] for a in authors),
        "challenge_title": challenge.title if challenge else None,
    }


def _has(session: Session, model, idea_id: int, user_id: int | None) -> bool:
    return user_id is not None and bool(session.scalar(select(exists().where(
        model.idea_id == idea_id, model.user_id == user_id))))


def _open_for_reactions(session: Session, viewer: Viewer, idea_id: int) -> Idea:
    """An idea the viewer may read and react to (not merged), locked for the change."""
    roles.ensure_can_write(viewer)
    if viewer.user_id is None:
        raise Forbidden("Support, ratings and comments come from people: sign in.")
    _lock_idea(session, idea_id)
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    if idea.merged_into_id is not None:
        raise Conflict(f"This idea was merged into idea {idea.merged_into_id}: support, rate "
                       "or discuss that one.")
    return idea


def support(session: Session, viewer: Viewer, *, idea_id: int) -> bool:
    """Support an idea: one vote per person. False when the viewer already supports it."""
    idea = _open_for_reactions(session, viewer, idea_id)
    added = insert_once(session, Vote(idea_id=idea.id, user_id=viewer.user_id))
    if added:
        _count(session, idea.id, supporters=Idea.supporters + 1)
    return added


def withdraw_support(session: Session, viewer: Viewer, *, idea_id: int) -> bool:
    idea = _open_for_reactions(session, viewer, idea_id)
    removed = bool(rows_changed(session.execute(delete(Vote).where(
        Vote.idea_id == idea.id, Vote.user_id == viewer.user_id))))
    if removed:
        _count(session, idea.id, supporters=Idea.supporters - 1)
    return removed


def _count(session: Session, idea_id: int, **values) -> None:
    """Change an idea's counters in the database, as one statement (no lost update)."""
    session.execute(update(Idea).where(Idea.id == idea_id).values(**values).execution_options(
        synchronize_session="fetch"))


def _follow(session: Session, idea_id: int, user_id: int | None) -> bool:
    return user_id is not None and insert_once(session, Follow(idea_id=idea_id, user_id=user_id))


def follow(session: Session, viewer: Viewer, *, idea_id: int, following: bool) -> bool:
    """Follow (or stop following) an idea: its comments and stage changes reach the inbox."""
    idea = _open_for_reactions(session, viewer, idea_id)
    if following:
        return _follow(session, idea.id, viewer.user_id)
    return bool(rows_changed(session.execute(delete(Follow).where(
        Follow.idea_id == idea.id, Follow.user_id == viewer.user_id))))


def rate(session: Session, viewer: Viewer, *, idea_id: int, criterion_id: int, value: int) -> None:
    """Rate an idea on one of its challenge's criteria: once per person and criterion (a
    second rating replaces the first)."""
    idea = _open_for_reactions(session, viewer, idea_id)
    criterion = session.get(Criterion, criterion_id)
    if criterion is None or criterion.challenge_id != idea.challenge_id:
        raise InvalidInput.for_field("criterion", f"no criterion {criterion_id} on this idea's challenge")
    challenge = _challenge_of(session, idea)
    assigned = challenge is not None and session.scalar(select(exists().where(
        Assignment.idea_id == idea.id, Assignment.stage == criterion.stage, Assignment.user_id == viewer.user_id)))
    if criterion.stage is not None and not (
            assigned and challenge is not None and is_evaluator(session, viewer, challenge, stage=criterion.stage)):
        raise Forbidden(f"“{criterion.name}” is scored by the evaluators this idea is assigned to "
                        f"in the stage {criterion.stage!r}.")
    if not 1 <= value <= criterion.scale:
        raise InvalidInput.for_field("value", f"a rating goes from 1 to {criterion.scale}")
    if not insert_once(session, Rating(idea_id=idea.id, criterion_id=criterion.id,
                                        user_id=viewer.user_id, value=value)):
        session.execute(update(Rating).where(
            Rating.idea_id == idea.id, Rating.criterion_id == criterion.id,
            Rating.user_id == viewer.user_id).values(value=value, rated_at=utcnow()))


# ---------------------------------------------------------------- discussion

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def _mentioned(session: Session, idea: Idea, body: str, today: date) -> list[int]:
    """People mentioned by @e-mail who may read the idea; others are not told."""
    emails = list(dict.fromkeys(m.casefold() for m in MENTION.findall(body)))[:20]
    users = accounts.users_by_email(session, emails=emails)
    return [u.id for u in users.values() if _may_read(session, u.id, idea, today)]


def _mentioned_you(idea: Idea) -> Callable[[str], str]:
    return lambda who: f"{who} mentioned you on the idea “{idea.title}”."


def _name_of(session: Session, viewer: Viewer) -> str:
    name = accounts.display_name(session, user_id=viewer.user_id) if viewer.user_id else None
    return name or viewer.actor


def _followers(session: Session, idea_id: int) -> list[int]:
    return list(session.scalars(select(Follow.user_id).where(Follow.idea_id == idea_id)))


def add_comment(session: Session, viewer: Viewer, *, idea_id: int, data: CommentIn) -> Comment:
    """Comment on an idea (or answer a comment); people mentioned and the idea's followers
    are told; the commenter follows the idea."""
    idea = _open_for_reactions(session, viewer, idea_id)
    if data.parent is not None:
        parent = session.get(Comment, data.parent)
        if parent is None or parent.idea_id != idea.id:
            raise InvalidInput.for_field("parent", f"no comment {data.parent} on this idea")
    comment = Comment(idea_id=idea.id, parent_id=data.parent, user_id=viewer.user_id, body=data.body)
    session.add(comment)
    session.flush()
    _count(session, idea.id, comments=Idea.comments + 1)
    link = f"/ideas/{idea.id}#comment-{comment.id}"
    mentioned = [u for u in _mentioned(session, idea, data.body, viewer.today) if u != viewer.user_id]
    _tell_of_author(session, viewer, idea, user_ids=mentioned, kind="mention", link=link,
                    message=_mentioned_you(idea))
    _tell_of_author(session, viewer, idea, kind="comment", link=link,
                    user_ids=[u for u in _followers(session, idea.id) if u != viewer.user_id and u not in mentioned],
                    message=lambda who: f"{who} commented on “{idea.title}”.")
    _follow(session, idea.id, viewer.user_id)
    if (challenge := _challenge_of(session, idea)) is not None:
        _emit(session, challenge, "comment.created", idea=idea, extra={
            "comment": {"id": comment.id, "parent": comment.parent_id, "body": comment.body,
                        "url": f"/ideas/{idea.id}#comment-{comment.id}"}})
    return comment


def edit_comment(session: Session, viewer: Viewer, *, comment_id: int, body: str) -> Comment:
    """Its writer edits a comment, which then says "edited"; people newly mentioned are told."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"No comment with id {comment_id}.")
    idea = _open_for_reactions(session, viewer, comment.idea_id)
    if comment.user_id != viewer.user_id:
        raise Forbidden("Only its writer may edit a comment.")
    before = set(_mentioned(session, idea, comment.body, viewer.today))
    comment.body, comment.edited_at = body, utcnow()
    session.flush()
    if new := [u for u in _mentioned(session, idea, body, viewer.today) if u not in before and u != viewer.user_id]:
        _tell_of_author(session, viewer, idea, user_ids=new, kind="mention",
                        link=f"/ideas/{idea.id}#comment-{comment.id}", message=_mentioned_you(idea))
    return comment


def comments_of(session: Session, viewer: Viewer, *, idea: Idea) -> list[dict]:
    """The idea's comments in discussion order (each answer after what it answers),
    shaped like CommentOut with their depth. Under blind evaluation, an author's comments
    are signed "an author"."""
    comments = session.scalars(select(Comment).where(Comment.idea_id == idea.id)
                               .order_by(Comment.created_at, Comment.id)).all()
    people = accounts.people_by_id(session, ids=[c.user_id for c in comments if c.user_id])
    hidden = authors_hidden(session, viewer, idea, _challenge_of(session, idea))
    author_ids = {a["user_id"] for a in idea_authors(session, idea_ids=[idea.id])[idea.id]} if hidden else set()
    children: dict[int | None, list] = defaultdict(list)
    for comment in comments:
        name, email = people.get(comment.user_id or 0, (None, None))
        who = "an author" if comment.user_id in author_ids else (name or email or "a former member")
        children[comment.parent_id].append({"id": comment.id, "parent": comment.parent_id, "author": who,
                                            "body": comment.body, "created_at": comment.created_at,
                                            "edited_at": comment.edited_at, "mine": comment.user_id == viewer.user_id
                                            and viewer.user_id is not None})
    out: list[dict] = []

    def walk(parent: int | None, depth: int) -> None:
        for item in children.get(parent, []):
            out.append(item | {"depth": min(depth, 4)})
            walk(item["id"], depth + 1)
    walk(None, 0)
    return out


# ---------------------------------------------------------------- stage-gate and merging


def _tell_authors_and_followers(session: Session, viewer: Viewer, idea: Idea, *, kind: str,
                                message: str) -> None:
    people = set(_followers(session, idea.id)) | set(session.scalars(select(IdeaAuthor.user_id).where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.confirmed_at.is_not(None))))
    people.discard(viewer.user_id)
    accounts.notify_people(session, user_ids=people, kind=kind, link=f"/ideas/{idea.id}", message=message)


def move_idea(session: Session, viewer: Viewer, *, idea_id: int, stage: str,
              reason: str | None = None) -> Idea:
    """Move an idea to another stage of its workflow (the challenge's team); a decision
    (selected, parked, rejected by default) needs a gatekeeper and a reason the authors
    read. A move the workflow does not allow answers 409 naming the allowed ones."""
    roles.ensure_can_write(viewer)
    _lock_idea(session, idea_id)
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    challenge = _challenge_of(session, idea)
    workflow = challenge.workflow if challenge is not None else default_workflow()
    decides = _may_decide_idea(session, viewer, idea, challenge)
    if not (decides or _may_manage_idea(viewer, idea, challenge)):
        raise Forbidden("Only the challenge's team may move its ideas." if challenge
                        else "Only the idea's organisation may move it.")
    if idea.merged_into_id is not None:
        raise Conflict(f"This idea was merged into idea {idea.merged_into_id}.")
    if stage not in workflow["stages"]:
        raise InvalidInput.for_field("stage", f"no stage {stage[:30]!r}; the stages are "
                                     + ", ".join(workflow["stages"]))
    allowed = next_stages(workflow, idea.stage)
    if stage not in allowed:
        raise Conflict(f"An idea in {stage_name(workflow, idea.stage)!r} may move to "
                       + (", ".join(repr(s) for s in allowed) if allowed else "no other stage")
                       + f", not to {stage!r}.")
    decision = stage in workflow.get("decisions", [])
    reason = (reason or "").strip() or None
    if decision and not decides:
        raise Forbidden("Only a gatekeeper (an administrator of the owner, or a person the "
                        "challenge's team named) may decide.")
    if not decision and not _may_manage_idea(viewer, idea, challenge):
        raise Forbidden("A gatekeeper decides; moving ideas between the other stages is the team's.")
    if decision:
        if reason is None:
            raise InvalidInput.for_field("reason", "say why: the authors read the reason for a decision")
    before = idea.stage
    idea.stage, idea.stage_changed_at = stage, utcnow()
    session.add(IdeaEvent(idea_id=idea.id, user_id=viewer.user_id, kind="decision" if decision else "stage",
                          from_stage=before, to_stage=stage, reason=reason))
    session.flush()
    words = f"“{idea.title}” moved from {stage_name(workflow, before)} to {stage_name(workflow, stage)}"
    _tell_authors_and_followers(session, viewer, idea, kind="decision" if decision else "stage_changed",
                                message=f"{words}: {reason}" if reason else f"{words}.")
    _audit(session, viewer, action="update", items=[idea], detail=f"stage: {before} → {stage}")
    if challenge is not None:
        _emit(session, challenge, "idea.stage_changed", idea=idea, extra={
            "from_stage": before, "to_stage": stage, "decision": decision, "reason": reason})
    return idea


def merge_ideas(session: Session, viewer: Viewer, *, idea_id: int, duplicate_id: int,
                reason: str | None = None) -> Idea:
    """Merge a duplicate into this idea (the challenge's team): its supporters, ratings
    (one per person and criterion; this idea's stay), comments and followers move here
    without counting anyone twice, its authors become co-authors, and its page says where
    it went."""
    roles.ensure_can_write(viewer)
    if idea_id == duplicate_id:
        raise InvalidInput.for_field("duplicate", "an idea cannot be merged into itself")
    for locked in sorted((idea_id, duplicate_id)):
        _lock_idea(session, locked)
    target = get_idea(session, viewer, idea_id=idea_id, log=False)
    try:
        duplicate = get_idea(session, viewer, idea_id=duplicate_id, log=False)
    except NotFound:
        raise InvalidInput.for_field("duplicate", f"no idea with id {duplicate_id}") from None
    if (target.challenge_id, target.organisation_id) != (duplicate.challenge_id, duplicate.organisation_id):
        raise InvalidInput.for_field("duplicate", "only ideas of the same challenge (or the same "
                                     "organisation's free ideas) can be merged")
    challenge = _challenge_of(session, target)
    if not _may_manage_idea(viewer, target, challenge):
        raise Forbidden("Only the challenge's team may merge ideas.")
    for idea in (target, duplicate):
        if idea.merged_into_id is not None:
            raise Conflict(f"Idea {idea.id} was already merged into idea {idea.merged_into_id}.")
    a, b = target.id, duplicate.id
    for model in (Vote, Follow):
        session.execute(insert(model).from_select(
            ["idea_id", "user_id", "created_at"],
            select(literal(a), model.user_id, model.created_at).where(
                model.idea_id == b, model.user_id.not_in(select(model.user_id).where(model.idea_id == a)))))
        session.execute(delete(model).where(model.idea_id == b))
    theirs = aliased(Rating)
    session.execute(insert(Rating).from_select(
        ["idea_id", "criterion_id", "user_id", "value", "rated_at"],
        select(literal(a), Rating.criterion_id, Rating.user_id, Rating.value, Rating.rated_at).where(
            Rating.idea_id == b, ~exists().where(theirs.idea_id == a, theirs.user_id == Rating.user_id,
                                                 theirs.criterion_id == Rating.criterion_id))))
    session.execute(delete(Rating).where(Rating.idea_id == b))
    session.execute(update(Comment).where(Comment.idea_id == b).values(idea_id=a))
    session.execute(insert(IdeaAuthor).from_select(
        ["idea_id", "user_id", "organisation_id", "confirmed_at", "invited_by_id", "created_at"],
        select(literal(a), IdeaAuthor.user_id, IdeaAuthor.organisation_id, IdeaAuthor.confirmed_at,
               IdeaAuthor.invited_by_id, IdeaAuthor.created_at).where(
            IdeaAuthor.idea_id == b,
            IdeaAuthor.user_id.not_in(select(IdeaAuthor.user_id).where(IdeaAuthor.idea_id == a)))))
    duplicate.merged_into_id = a
    _count(session, a, supporters=select(func.count()).where(Vote.idea_id == a).scalar_subquery(),
           comments=select(func.count()).where(Comment.idea_id == a).scalar_subquery())
    _count(session, b, supporters=0, comments=0)
    reason = (reason or "").strip() or None
    session.add_all([
        IdeaEvent(idea_id=b, user_id=viewer.user_id, kind="merged_into", other_idea_id=a, reason=reason),
        IdeaEvent(idea_id=a, user_id=viewer.user_id, kind="merged_in", other_idea_id=b, reason=reason)])
    session.flush()
    _tell_authors_and_followers(session, viewer, target, kind="stage_changed",
                                message=f"“{duplicate.title}” was merged into “{target.title}”.")
    _audit(session, viewer, action="update", items=[target, duplicate], detail=f"merged idea {b} into idea {a}")
    return target


def history(session: Session, viewer: Viewer, *, idea: Idea) -> list[dict]:
    """What happened to the idea, oldest first, shaped like IdeaEventOut."""
    workflow = workflow_of(session, idea)
    events = session.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == idea.id)
                             .order_by(IdeaEvent.at, IdeaEvent.id)).all()
    people = accounts.people_by_id(session, ids=[e.user_id for e in events if e.user_id])
    hidden = authors_hidden(session, viewer, idea, _challenge_of(session, idea))
    author_ids = set(session.scalars(select(IdeaAuthor.user_id).where(IdeaAuthor.idea_id == idea.id))) \
        if hidden else set()

    def who(e: IdeaEvent) -> str | None:
        if e.user_id is None or e.user_id in author_ids:
            return None
        name, email = people.get(e.user_id, (None, None))
        return name or email
    return [{"at": e.at, "kind": e.kind, "who": who(e),
             "from_stage": e.from_stage, "to_stage": e.to_stage,
             "from_stage_name": stage_name(workflow, e.from_stage) if e.from_stage else None,
             "to_stage_name": stage_name(workflow, e.to_stage) if e.to_stage else None,
             "reason": e.reason, "other_idea": e.other_idea_id} for e in events]


def outcome(events: list[dict]) -> dict | None:
    """What became of the idea: the newest decision and its reason, or where it was merged."""
    for event in reversed(events):
        if event["kind"] in ("decision", "merged_into"):
            return event
    return None


def project_origin(session: Session, viewer: Viewer, *, idea_id: int) -> dict:
    """What a joint project started from this idea carries over: its challenge, its
    confirmed authors (user id, organisation id) and its evaluation (mean ratings, the
    decision). Only the idea's organisation may start one, once a gatekeeper selected it."""
    idea = get_idea(session, viewer, idea_id=idea_id)
    roles.ensure_insider(viewer, idea.organisation_id)
    events = history(session, viewer, idea=idea)
    decision = outcome(events)
    if idea.merged_into_id is not None or decision is None or decision["kind"] != "decision" \
            or decision["to_stage"] in ANY_TIME_STAGES:
        raise InvalidInput.for_field("idea", "only an idea a gatekeeper has selected can become a project "
                                             f"(it is at “{stage_name(workflow_of(session, idea), idea.stage)}”)")
    view = idea_view(session, viewer, idea=idea)
    authors = session.execute(select(IdeaAuthor.user_id, IdeaAuthor.organisation_id).where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.confirmed_at.is_not(None))).all()
    return {"idea": idea, "challenge_id": idea.challenge_id, "authors": [tuple(a) for a in authors],
            "evaluation": {"ratings": view["ratings"], "supporters": view["supporters"],
                           "decision": decision["to_stage_name"], "reason": decision["reason"],
                           "decided_on": decision["at"].date().isoformat()}}


# ---------------------------------------------------------------- export

EXPORT_COLUMNS = ("id", "title", "stage", "stage_name", "tags", "authors", "author_organisations",
                  "supporters", "comments", "followers", "created_at", "edited_at", "merged_into",
                  "decision", "decision_reason")


def export_challenge(session: Session, viewer: Viewer, *, challenge_id: int) -> dict:
    """A challenge and the ideas the viewer may read, with their counts, mean ratings and
    outcome: ``{"challenge": …, "criteria": […], "ideas": [row, …]}`` (rows keyed by
    EXPORT_COLUMNS plus one ``rating: <criterion>`` per criterion)."""
    challenge = get_challenge(session, viewer, challenge_id=challenge_id)
    view = challenge_view(session, viewer, challenges=[challenge])[0]
    ideas = list(session.scalars(select(Idea).where(Idea.challenge_id == challenge.id, idea_condition(viewer))
                                 .order_by(Idea.id)))
    ids = [i.id for i in ideas]
    summaries = {s["id"]: s for s in idea_summaries(session, viewer, ideas=ideas)}
    followers = _counts(session, Follow, ids)
    authors = idea_authors(session, idea_ids=ids)
    criteria = [c for c in criteria_of(session, challenge_ids=[challenge.id])[challenge.id] if c.stage is None]
    means: dict[int, dict[int, float]] = defaultdict(dict)
    for idea_id, criterion_id, mean in session.execute(select(
            Rating.idea_id, Rating.criterion_id, func.avg(Rating.value)).where(Rating.idea_id.in_(ids))
            .group_by(Rating.idea_id, Rating.criterion_id)):
        means[idea_id][criterion_id] = round(float(mean), 2)
    decisions = {}
    for event in session.scalars(select(IdeaEvent).where(IdeaEvent.idea_id.in_(ids), IdeaEvent.kind == "decision")
                                 .order_by(IdeaEvent.at, IdeaEvent.id)):
        decisions[event.idea_id] = event
    rows = []
    for idea in ideas:
        hidden = authors_hidden(session, viewer, idea, challenge)
        confirmed = [a for a in authors[idea.id] if a["confirmed"]] if not hidden else []
        decision = decisions.get(idea.id)
        rows.append({
            **{k: summaries[idea.id][k] for k in ("id", "title", "stage", "stage_name", "supporters", "comments",
                                                 "created_at")},
            "tags": ", ".join(tags_list(idea.tags)), "authors": "; ".join(a["name"] for a in confirmed),
            "author_organisations": "; ".join(dict.fromkeys(a["organisation"].name for a in confirmed)),
            "followers": followers.get(idea.id, 0), "edited_at": idea.edited_at, "merged_into": idea.merged_into_id,
            "decision": decision.to_stage if decision else None,
            "decision_reason": decision.reason if decision else None,
        } | {f"rating: {c.name}": means[idea.id].get(c.id) for c in criteria})
    _audit(session, viewer, action="export", items=[challenge])
    return {"challenge": {k: view[k] for k in ("id", "title", "state", "visibility", "open_call", "opens_on",
                                               "closes_on", "tags", "workflow", "terms")}
            | {"organisation": view["organisation"].external_id, "problem": challenge.problem},
            "criteria": [{"name": c.name, "scale": c.scale, "weight": c.weight} for c in criteria],
            "ideas": rows}


def stage_funnel(session: Session, *, ideas: list[Idea], workflow: dict | None = None) -> list[dict]:
    """Per stage: ideas that ever reached it, the share of those of the stage before (in
    the workflow's order) that did, the median days of the stays that ended, and how
    many are in it now. The default workflow's stages when none is given (ideas from
    several challenges)."""
    workflow = workflow or {"stages": DEFAULT_STAGES}
    events: dict[int, list[tuple[datetime, str | None]]] = defaultdict(list)
    for idea_id, at, stage in session.execute(select(IdeaEvent.idea_id, IdeaEvent.at, IdeaEvent.to_stage).where(
            IdeaEvent.idea_id.in_([i.id for i in ideas]), IdeaEvent.kind.in_(("submitted", "stage", "decision")))
            .order_by(IdeaEvent.at, IdeaEvent.id)):
        events[idea_id].append((at, stage))
    reached: dict[str | None, set[int]] = defaultdict(set)
    stays: dict[str | None, list[float]] = defaultdict(list)
    for idea_id, moves in events.items():
        for n, (at, stage) in enumerate(moves):
            reached[stage].add(idea_id)
            if n + 1 < len(moves):
                stays[stage].append((moves[n + 1][0] - at).total_seconds() / 86400)
    now = {stage: sum(1 for i in ideas if i.stage == stage) for stage in workflow["stages"]}
    out, before = [], None
    for stage, name in workflow["stages"].items():
        count = len(reached[stage])
        out.append({"stage": stage, "name": name, "reached": count, "now": now[stage],
                    "conversion": round(count / before, 3) if before else None,
                    "median_days": round(median(stays[stage]), 1) if stays[stage] else None})
        if stage not in ("parked", "rejected"):
            before = count
    return out
