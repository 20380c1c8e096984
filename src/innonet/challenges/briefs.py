"""Challenges: posing, changing and closing them, their criteria, terms and invited
solvers."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, true
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.challenges.access import (
    audit,
    brief_condition,
    cover_condition,
    default_workflow,
    emit,
    idea_condition,
    tags_list,
    tags_value,
)
from innonet.challenges.models import (
    IP_TERMS,
    SUBMISSION_RULES,
    Challenge,
    ChallengeInvitation,
    Criterion,
    Gatekeeper,
    Idea,
    TermsAcceptance,
)
from innonet.challenges.schemas import (
    ChallengeFields,
    ChallengeIn,
    ChallengePatch,
    ChallengeView,
    CriterionIn,
    CriterionOut,
    TermsOut,
    WorkflowIn,
)
from innonet.db import insert_once, utcnow
from innonet.errors import Conflict, InvalidInput, NotFound
from innonet.matching import service as matching
from innonet.matching.schemas import NeedQuery, Recommendations
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing
from innonet.sharing.models import Agreement
from innonet.sharing.schemas import SharingFields


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
        audit(session, viewer, action="read", items=[challenge])
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


def may_manage_idea(viewer: Viewer, idea: Idea, challenge: Challenge | None) -> bool:
    """The challenge's team, or for a free idea its organisation's members."""
    if challenge is not None:
        return may_manage(viewer, challenge)
    return viewer.is_operator or idea.organisation_id in viewer.member_of


def may_decide_idea(session: Session, viewer: Viewer, idea: Idea, challenge: Challenge | None) -> bool:
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
            emit(session, challenge, f"challenge.{'opened' if state == 'open' else 'closed'}")
    session.flush()
    sharing.change_sharing(session, viewer, item=challenge, changes=sharing_changes)
    if changed:
        audit(session, viewer, action="update", items=[challenge], detail="; ".join(changed)[:500])
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


def criteria_of(session: Session, *, challenge_ids: Iterable[int | None]) -> dict[int, list[Criterion]]:
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


def readable_in(session: Session, viewer: Viewer, challenge_ids: list[int]) -> ColumnElement[bool]:
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


def count_ideas(session: Session, viewer: Viewer, *, challenge_ids: list[int]) -> dict[int, int]:
    """Ideas the viewer may read per challenge (merged ones aside)."""
    rows = session.execute(select(Idea.challenge_id, func.count()).where(
        Idea.challenge_id.in_(list(challenge_ids)), Idea.merged_into_id.is_(None),
        readable_in(session, viewer, list(challenge_ids))).group_by(Idea.challenge_id)).all()
    return {c: n for c, n in rows if c is not None}


def challenge_view(session: Session, viewer: Viewer, *, challenges: list[Challenge]) -> list[ChallengeView]:
    """Challenges: the brief only for those who may read it."""
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
        out.append(ChallengeView(
            **dict(shares[c.id]), id=c.id, organisation=OrganisationSummary.model_validate(by_id[c.organisation_id]),
            title=c.title, brief_visible=brief, problem=c.problem if brief else None,
            sought=c.sought if brief else None, offered=c.offered if brief else None,
            cover_text=c.cover_text, tags=tags_list(c.tags), opens_on=c.opens_on,
            closes_on=c.closes_on, state=c.state, open_call=c.open_call, blind=c.blind,
            workflow=c.workflow, criteria=[CriterionOut.model_validate(k) for k in criteria[c.id]] if brief else [],
            terms=TermsOut(version=c.terms_version, ip_terms=c.ip_terms, ip_terms_text=IP_TERMS[c.ip_terms],
                           submissions=c.submissions, submissions_text=SUBMISSION_RULES[c.submissions],
                           terms_text=c.terms_text, accepted=c.id in accepted),
            ideas=counts.get(c.id, 0), may_submit=may_submit(session, viewer, c, brief=brief),
            may_manage=may_manage(viewer, c), may_delete=viewer.admin_of(c.organisation_id),
            created_at=c.created_at, updated_at=c.updated_at))
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
        named = [o.external_id for o in current.shared_with]
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
        waiting = challenge.agreement_id is not None and not session.scalar(select(exists().where(
            Agreement.id == challenge.agreement_id, policy.in_force_condition(viewer.today))))
        gate = " (details once the agreement is in force)" if waiting else ""
        accounts.notify(session, organisation_ids=new, kind="challenge_invitation",
                        link=f"/challenges/{challenge.id}",
                        message=f"{owner.name} invites you to contribute ideas to the challenge "
                                f"“{challenge.title}”{gate}.")
        audit(session, viewer, action="update", items=[challenge],
               detail=f"invited {len(new)} organisation{'s' if len(new) > 1 else ''}")
    return new


def propose_solvers(session: Session, viewer: Viewer, *, challenge_id: int, k: int = 10) -> Recommendations:
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
