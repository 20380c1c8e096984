"""The stage-gate: moving and merging ideas, their history and outcome, the funnel and the
export."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from innonet import roles
from innonet.accounts import service as accounts
from innonet.challenges.access import audit, default_workflow, emit, idea_condition, next_stages, stage_name, tags_list
from innonet.challenges.briefs import challenge_view, criteria_of, get_challenge, may_decide_idea, may_manage_idea
from innonet.challenges.discussion import followers_of
from innonet.challenges.ideas import (
    authors_hidden,
    challenge_of,
    count_per_idea,
    get_idea,
    idea_authors,
    idea_summaries,
    idea_view,
    lock_idea,
    set_counters,
    workflow_of,
)
from innonet.challenges.models import (
    ANY_TIME_STAGES,
    DEFAULT_STAGES,
    Comment,
    Follow,
    Idea,
    IdeaAuthor,
    IdeaEvent,
    Rating,
    Vote,
)
from innonet.challenges.schemas import IdeaEventView, StageFigures
from innonet.db import utcnow
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound
from innonet.roles import Viewer


def _tell_authors_and_followers(session: Session, viewer: Viewer, idea: Idea, *, kind: str,
                                message: str) -> None:
    people = set(followers_of(session, idea.id)) | set(session.scalars(select(IdeaAuthor.user_id).where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.confirmed_at.is_not(None))))
    people.discard(viewer.user_id)
    accounts.notify_people(session, user_ids=people, kind=kind, link=f"/ideas/{idea.id}", message=message)


def move_idea(session: Session, viewer: Viewer, *, idea_id: int, stage: str,
              reason: str | None = None) -> Idea:
    """Move an idea to another stage of its workflow (the challenge's team); a decision
    (selected, parked, rejected by default) needs a gatekeeper and a reason the authors
    read. A move the workflow does not allow answers 409 naming the allowed ones."""
    roles.ensure_can_write(viewer)
    lock_idea(session, idea_id)
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    challenge = challenge_of(session, idea)
    workflow = challenge.workflow if challenge is not None else default_workflow()
    decides = may_decide_idea(session, viewer, idea, challenge)
    if not (decides or may_manage_idea(viewer, idea, challenge)):
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
    if not decision and not may_manage_idea(viewer, idea, challenge):
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
    audit(session, viewer, action="update", items=[idea], detail=f"stage: {before} → {stage}")
    if challenge is not None:
        emit(session, challenge, "idea.stage_changed", idea=idea, extra={
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
        lock_idea(session, locked)
    target = get_idea(session, viewer, idea_id=idea_id, log=False)
    try:
        duplicate = get_idea(session, viewer, idea_id=duplicate_id, log=False)
    except NotFound:
        raise InvalidInput.for_field("duplicate", f"no idea with id {duplicate_id}") from None
    if (target.challenge_id, target.organisation_id) != (duplicate.challenge_id, duplicate.organisation_id):
        raise InvalidInput.for_field("duplicate", "only ideas of the same challenge (or the same "
                                     "organisation's free ideas) can be merged")
    challenge = challenge_of(session, target)
    if not may_manage_idea(viewer, target, challenge):
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
    set_counters(session, a, supporters=select(func.count()).where(Vote.idea_id == a).scalar_subquery(),
           comments=select(func.count()).where(Comment.idea_id == a).scalar_subquery())
    set_counters(session, b, supporters=0, comments=0)
    reason = (reason or "").strip() or None
    session.add_all([
        IdeaEvent(idea_id=b, user_id=viewer.user_id, kind="merged_into", other_idea_id=a, reason=reason),
        IdeaEvent(idea_id=a, user_id=viewer.user_id, kind="merged_in", other_idea_id=b, reason=reason)])
    session.flush()
    _tell_authors_and_followers(session, viewer, target, kind="stage_changed",
                                message=f"“{duplicate.title}” was merged into “{target.title}”.")
    audit(session, viewer, action="update", items=[target, duplicate], detail=f"merged idea {b} into idea {a}")
    return target


def history(session: Session, viewer: Viewer, *, idea: Idea) -> list[IdeaEventView]:
    """What happened to the idea, oldest first."""
    workflow = workflow_of(session, idea)
    events = session.scalars(select(IdeaEvent).where(IdeaEvent.idea_id == idea.id)
                             .order_by(IdeaEvent.at, IdeaEvent.id)).all()
    people = accounts.people_by_id(session, ids=[e.user_id for e in events if e.user_id])
    hidden = authors_hidden(session, viewer, idea, challenge_of(session, idea))
    author_ids = set(session.scalars(select(IdeaAuthor.user_id).where(IdeaAuthor.idea_id == idea.id))) \
        if hidden else set()

    def who(e: IdeaEvent) -> str | None:
        if e.user_id is None or e.user_id in author_ids:
            return None
        name, email = people.get(e.user_id, (None, None))
        return name or email
    return [IdeaEventView(at=e.at, kind=e.kind, who=who(e), from_stage=e.from_stage, to_stage=e.to_stage,
                          from_stage_name=stage_name(workflow, e.from_stage) if e.from_stage else None,
                          to_stage_name=stage_name(workflow, e.to_stage) if e.to_stage else None,
                          reason=e.reason, other_idea=e.other_idea_id) for e in events]


def outcome(events: list[IdeaEventView]) -> IdeaEventView | None:
    """What became of the idea: the newest decision and its reason, or where it was merged."""
    for event in reversed(events):
        if event.kind in ("decision", "merged_into"):
            return event
    return None


@dataclass(frozen=True)
class ProjectOrigin:
    """What a joint project started from an idea carries over."""

    idea: Idea
    challenge_id: int | None
    authors: list[tuple[int, int]]  # the confirmed authors: (user id, organisation id)
    evaluation: dict[str, Any]  # stored with the project: mean ratings, support and the decision


def project_origin(session: Session, viewer: Viewer, *, idea_id: int) -> ProjectOrigin:
    """What a joint project started from this idea carries over: its challenge, its
    confirmed authors (user id, organisation id) and its evaluation (mean ratings, the
    decision). Only the idea's organisation may start one, once a gatekeeper selected it."""
    idea = get_idea(session, viewer, idea_id=idea_id)
    roles.ensure_insider(viewer, idea.organisation_id)
    events = history(session, viewer, idea=idea)
    decision = outcome(events)
    if idea.merged_into_id is not None or decision is None or decision.kind != "decision" \
            or decision.to_stage in ANY_TIME_STAGES:
        raise InvalidInput.for_field("idea", "only an idea a gatekeeper has selected can become a project "
                                             f"(it is at “{stage_name(workflow_of(session, idea), idea.stage)}”)")
    view = idea_view(session, viewer, idea=idea)
    authors = session.execute(select(IdeaAuthor.user_id, IdeaAuthor.organisation_id).where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.confirmed_at.is_not(None))).all()
    return ProjectOrigin(idea=idea, challenge_id=idea.challenge_id, authors=[(u, o) for u, o in authors],
                         evaluation={"ratings": view.ratings, "supporters": view.supporters,
                                     "decision": decision.to_stage_name, "reason": decision.reason,
                                     "decided_on": decision.at.date().isoformat()})


EXPORT_COLUMNS = ("id", "title", "stage", "stage_name", "tags", "authors", "author_organisations",
                  "supporters", "comments", "followers", "created_at", "edited_at", "merged_into",
                  "decision", "decision_reason")


@dataclass(frozen=True)
class ChallengeExport:
    """A challenge as ``innonet challenges export`` writes it."""

    challenge: dict[str, Any]
    criteria: list[dict[str, Any]]  # name, scale, weight
    ideas: list[dict[str, Any]]  # rows keyed by EXPORT_COLUMNS plus one "rating: <criterion>" per criterion


def export_challenge(session: Session, viewer: Viewer, *, challenge_id: int) -> ChallengeExport:
    """A challenge and the ideas the viewer may read, with their counts, mean ratings and
    outcome."""
    challenge = get_challenge(session, viewer, challenge_id=challenge_id)
    view = challenge_view(session, viewer, challenges=[challenge])[0]
    ideas = list(session.scalars(select(Idea).where(Idea.challenge_id == challenge.id, idea_condition(viewer))
                                 .order_by(Idea.id)))
    ids = [i.id for i in ideas]
    summaries = {s.id: s for s in idea_summaries(session, viewer, ideas=ideas)}
    followers = count_per_idea(session, Follow, ids)
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
        confirmed = [a for a in authors[idea.id] if a.confirmed] if not hidden else []
        decision = decisions.get(idea.id)
        rows.append({
            **summaries[idea.id].model_dump(include={"id", "title", "stage", "stage_name", "supporters", "comments",
                                                     "created_at"}),
            "tags": ", ".join(tags_list(idea.tags)), "authors": "; ".join(a.name for a in confirmed),
            "author_organisations": "; ".join(dict.fromkeys(a.organisation.name for a in confirmed)),
            "followers": followers.get(idea.id, 0), "edited_at": idea.edited_at, "merged_into": idea.merged_into_id,
            "decision": decision.to_stage if decision else None,
            "decision_reason": decision.reason if decision else None,
        } | {f"rating: {c.name}": means[idea.id].get(c.id) for c in criteria})
    audit(session, viewer, action="export", items=[challenge])
    return ChallengeExport(
        challenge=view.model_dump(include={"id", "title", "state", "visibility", "open_call", "opens_on", "closes_on",
                                           "tags", "workflow", "terms"})
        | {"organisation": view.organisation.external_id, "problem": challenge.problem},
        criteria=[{"name": c.name, "scale": c.scale, "weight": c.weight} for c in criteria], ideas=rows)


def stage_funnel(session: Session, *, ideas: list[Idea], workflow: dict | None = None) -> list[StageFigures]:
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
        out.append(StageFigures(stage=stage, name=name, reached=count, now=now[stage],
                                conversion=round(count / before, 3) if before else None,
                                median_days=round(median(stays[stage]), 1) if stays[stage] else None))
        if stage not in ("parked", "rejected"):
            before = count
    return out
