"""Who reads what of challenges and ideas (docs/security.md), and the tags and workflow
every part reads."""

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from innonet.challenges.models import (
    ANY_TIME_STAGES,
    DEFAULT_DECISIONS,
    DEFAULT_STAGES,
    DEFAULT_TRANSITIONS,
    Assignment,
    Challenge,
    Evaluator,
    Idea,
    IdeaAuthor,
)
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing
from innonet.webhooks import service as webhooks


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


def _draft_hidden(viewer: Viewer) -> ColumnElement[bool]:
    """Drafts are for the owner's members."""
    return or_(Challenge.state != "draft", Challenge.organisation_id.in_(sorted(viewer.member_of)))


def brief_condition(viewer: Viewer) -> ColumnElement[bool]:
    """Challenges whose whole brief the viewer may read."""
    if viewer.is_operator:
        return true()
    return and_(policy.visible_condition(viewer, Challenge), _draft_hidden(viewer))


def cover_condition(viewer: Viewer) -> ColumnElement[bool]:
    """Challenges the viewer may know of: the brief, or the cover of an open call."""
    if viewer.is_operator:
        return true()
    return or_(brief_condition(viewer), and_(Challenge.open_call.is_(True), Challenge.state != "draft"))


def idea_condition(viewer: Viewer) -> ColumnElement[bool]:
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


def _assigned_condition(viewer: Viewer) -> ColumnElement[bool]:
    """Ideas assigned to the viewer while they are still on the stage's evaluator team and
    read the challenge's brief under today's sharing rule (an NDA ended, or a place on the
    team lost, takes an assignment's access away at once)."""
    on_team = exists().where(Evaluator.challenge_id == Idea.challenge_id, Evaluator.user_id == viewer.user_id,
                             Evaluator.stage == Assignment.stage).correlate_except(Evaluator)
    return and_(Idea.challenge_id.in_(select(Challenge.id).where(brief_condition(viewer))),
                exists().where(Assignment.idea_id == Idea.id, Assignment.user_id == viewer.user_id, on_team))


def emit(session: Session, challenge: Challenge, event: str, *, idea: Idea | None = None,
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


def audit(session: Session, viewer: Viewer, *, action: str, items: list, detail: str | None = None) -> None:
    """Challenges and ideas are logged for their owner's admins; public ones are not
    logged when read."""
    sharing.record_events(session, viewer, action=action, detail=detail, events=[
        (i.organisation_id, i.share_type, i.id) for i in items
        if action != "read" or i.visibility != "public"])


def audit_change(session: Session, viewer: Viewer, challenge: Challenge, *, detail: str) -> None:
    audit(session, viewer, action="update", items=[challenge], detail=detail[:500])
