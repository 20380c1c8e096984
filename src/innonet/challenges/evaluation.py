"""Evaluation: a team of evaluators per stage scores the ideas assigned to them on the
stage's weighted scorecard; their scores combine into a ranking that shows how far the
evaluators disagree. Gatekeepers then decide (service.move_idea). Services flush, never
commit.

An evaluator's **total** for an idea is the weighted mean of their scores, each scaled to
0–100 (1 is 0, the top of the criterion's scale is 100), counted once their scorecard is
complete. An idea's **score** is the mean of its evaluators' totals and its **spread** the
range between the highest and the lowest (docs/methods.md).
"""

from collections import defaultdict

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from innonet.accounts import service as accounts
from innonet.challenges import service
from innonet.challenges.models import Assignment, Challenge, Criterion, Evaluator, Gatekeeper, Idea, Rating
from innonet.challenges.schemas import AssignOut, BoardView, CriterionOut, PersonOut, RankedIdeaView, TeamOut
from innonet.db import utcnow
from innonet.errors import Forbidden, InvalidInput
from innonet.roles import Viewer


def _people(session: Session, viewer: Viewer, challenge: Challenge, emails: list[str], *,
            field: str) -> dict[str, int]:
    """Accounts by e-mail, each of whom may read the challenge's brief."""
    wanted = [accounts.normalise_email(e, field=field) for e in emails]
    users = accounts.users_by_email(session, emails=wanted)
    for email in wanted:
        user = users.get(email)
        if user is None or not _reads_brief(session, viewer, user.id, challenge):
            raise InvalidInput.for_field(field, f"{email} has no account that may read this challenge")
    return {email: users[email].id for email in dict.fromkeys(wanted)}


def _reads_brief(session: Session, viewer: Viewer, user_id: int, challenge: Challenge) -> bool:
    person = accounts.viewer_of(session, user_id=user_id, today=viewer.today, channel="page")
    return service.may_read_brief(session, person, challenge)


def set_team(session: Session, viewer: Viewer, *, challenge_id: int, gatekeepers: list[str],
             evaluators: dict[str, list[str]]) -> None:
    """Name the gatekeepers and each stage's evaluators (the challenge's team); the lists
    replace the ones before. Everyone named must be able to read the brief."""
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    for stage in evaluators:
        if stage not in challenge.workflow["stages"]:
            raise InvalidInput.for_field(f"evaluators.{stage[:30]}", f"no stage {stage[:30]!r} in the workflow")
    keepers = _people(session, viewer, challenge, gatekeepers, field="gatekeepers")
    teams = {stage: _people(session, viewer, challenge, emails, field=f"evaluators.{stage}")
             for stage, emails in evaluators.items()}
    session.execute(delete(Gatekeeper).where(Gatekeeper.challenge_id == challenge.id))
    session.execute(delete(Evaluator).where(Evaluator.challenge_id == challenge.id))
    if keepers:
        session.execute(insert(Gatekeeper), [{"challenge_id": challenge.id, "user_id": u} for u in keepers.values()])
    rows = [{"challenge_id": challenge.id, "stage": stage, "user_id": u}
            for stage, people in teams.items() for u in people.values()]
    if rows:
        session.execute(insert(Evaluator), rows)
    session.flush()
    service.audit_change(session, viewer, challenge, detail=f"team: {len(keepers)} gatekeepers, "
                         f"{len(rows)} evaluator places")


def team_of(session: Session, *, challenge: Challenge) -> TeamOut:
    """The gatekeepers and each stage's evaluators, as (name, e-mail) pairs."""
    keepers = list(session.scalars(select(Gatekeeper.user_id).where(Gatekeeper.challenge_id == challenge.id)))
    evaluators = session.execute(select(Evaluator.stage, Evaluator.user_id).where(
        Evaluator.challenge_id == challenge.id).order_by(Evaluator.id)).all()
    people = accounts.people_by_id(session, ids=keepers + [u for _, u in evaluators])
    teams: dict[str, list[PersonOut]] = defaultdict(list)
    for stage, user_id in evaluators:
        teams[stage].append(_person(people, user_id))
    return TeamOut(gatekeepers=[_person(people, u) for u in keepers], evaluators=dict(teams))


def _person(people: dict[int, tuple[str | None, str]], user_id: int) -> PersonOut:
    name, email = people[user_id]
    return PersonOut(name=name or email, email=email)


def assign(session: Session, viewer: Viewer, *, challenge_id: int, stage: str,
           idea_ids: list[int] | None = None) -> AssignOut:
    """Assign the ideas now in ``stage`` (or those named) to the stage's evaluators, leaving
    out anyone with a conflict of interest (:func:`service.conflicts_of_interest`); each
    evaluator is told once how many ideas await them."""
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    if stage not in challenge.workflow["stages"]:
        raise InvalidInput.for_field("stage", f"no stage {stage[:30]!r} in the workflow")
    team = list(session.scalars(select(Evaluator.user_id).where(
        Evaluator.challenge_id == challenge.id, Evaluator.stage == stage)))
    if not team:
        raise InvalidInput.for_field(
            "stage", f"name the evaluators of {service.stage_name(challenge.workflow, stage)!r} first")
    query = select(Idea.id).where(Idea.challenge_id == challenge.id, Idea.merged_into_id.is_(None))
    query = query.where(Idea.id.in_(idea_ids)) if idea_ids is not None else query.where(Idea.stage == stage)
    ideas = list(session.scalars(query))
    if idea_ids is not None and (unknown := sorted(set(idea_ids) - set(ideas))):
        raise InvalidInput.for_field("ideas", f"no idea {unknown[0]} in this challenge")
    existing = set(session.execute(select(Assignment.idea_id, Assignment.user_id).where(
        Assignment.idea_id.in_(ideas), Assignment.stage == stage)).all())
    conflicts = service.conflicts_of_interest(session, challenge, idea_ids=ideas, user_ids=team)
    new = [(i, u) for i in ideas for u in team if (i, u) not in existing and (i, u) not in conflicts]
    if new:
        now = utcnow()
        session.execute(insert(Assignment), [{"idea_id": i, "stage": stage, "user_id": u, "assigned_at": now}
                                             for i, u in new])
        counts: dict[int, int] = defaultdict(int)
        for _, user_id in new:
            counts[user_id] += 1
        for user_id, count in counts.items():
            accounts.notify_people(session, user_ids=[user_id], kind="evaluation",
                                   link=f"/challenges/{challenge.id}/evaluation?stage={stage}",
                                   message=f"{count} idea{'s' if count > 1 else ''} of “{challenge.title}” "
                                           f"{'await' if count > 1 else 'awaits'} your evaluation "
                                           f"({service.stage_name(challenge.workflow, stage)}).")
    return AssignOut(assigned=len(new), left_out=len(conflicts))


def scorecard(session: Session, *, challenge: Challenge, stage: str) -> list[Criterion]:
    return [c for c in service.criteria_of(session, challenge_ids=[challenge.id])[challenge.id] if c.stage == stage]


def evaluator_totals(criteria: list[Criterion], scores: dict[tuple[int, int, int], int],
                     pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """(idea, evaluator) -> the evaluator's total (0–100) for each complete scorecard."""
    weight = sum(c.weight for c in criteria)
    out = {}
    for idea_id, user_id in pairs:
        values = [scores[idea_id, c.id, user_id] for c in criteria if (idea_id, c.id, user_id) in scores]
        if criteria and len(values) == len(criteria):
            out[idea_id, user_id] = round(100 * sum(
                c.weight * (v - 1) / (c.scale - 1) for c, v in zip(criteria, values)) / weight, 1)
    return out


def ensure_on_board(session: Session, viewer: Viewer, challenge: Challenge) -> bool:
    """The evaluation is for the challenge's team and gatekeepers (who lead it: True) and
    its evaluators (False); Forbidden for anyone else."""
    if service.may_manage(viewer, challenge) or service.may_decide(session, viewer, challenge):
        return True
    if not service.is_evaluator(session, viewer, challenge):
        raise Forbidden("Only the challenge's team, its gatekeepers and its evaluators see the evaluation.")
    return False


def board(session: Session, viewer: Viewer, *, challenge_id: int, stage: str | None = None) -> BoardView:
    """The evaluation of one stage: for an evaluator, the ideas assigned to them with their
    scores; for the challenge's team and gatekeepers, also the ranking with each idea's
    spread between evaluators."""
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    workflow = challenge.workflow
    staged = [s for s in workflow["stages"] if any(c.stage == s for c in service.criteria_of(
        session, challenge_ids=[challenge.id])[challenge.id])]
    stage = stage or (staged[0] if staged else "evaluation")
    if stage not in workflow["stages"]:
        raise InvalidInput.for_field("stage", f"no stage {stage[:30]!r}; the stages are "
                                     + ", ".join(workflow["stages"]))
    leads = ensure_on_board(session, viewer, challenge)
    criteria = scorecard(session, challenge=challenge, stage=stage)
    assignments: list[tuple[int, int]] = [(i, u) for i, u in session.execute(select(
        Assignment.idea_id, Assignment.user_id).join(
        Idea, Idea.id == Assignment.idea_id).where(
        Idea.challenge_id == challenge.id, Assignment.stage == stage, Idea.merged_into_id.is_(None)))]
    # An assignment made before its conflict of interest was known counts for nothing.
    conflicts = service.conflicts_of_interest(session, challenge, idea_ids={i for i, _ in assignments},
                                              user_ids={u for _, u in assignments})
    assignments = [pair for pair in assignments if pair not in conflicts]
    if not leads:  # an evaluator sees what is assigned to them while on this stage's team
        on_team = service.is_evaluator(session, viewer, challenge, stage=stage)
        assignments = [(i, u) for i, u in assignments if u == viewer.user_id and on_team]
    idea_ids = sorted({i for i, _ in assignments})
    scores = {(i, c, u): v for i, c, u, v in session.execute(select(
        Rating.idea_id, Rating.criterion_id, Rating.user_id, Rating.value).where(
        Rating.idea_id.in_(idea_ids), Rating.criterion_id.in_([c.id for c in criteria])))}
    totals = evaluator_totals(criteria, scores, assignments)
    ideas = {i.id: i for i in session.scalars(select(Idea).where(Idea.id.in_(idea_ids)))}
    summaries = {s.id: s for s in service.idea_summaries(session, viewer, ideas=list(ideas.values()))}
    by_idea: dict[int, list[int]] = defaultdict(list)
    for idea_id, user_id in assignments:
        by_idea[idea_id].append(user_id)
    ranking = []
    me = viewer.user_id or 0
    for idea_id, evaluators in by_idea.items():
        done = [totals[idea_id, u] for u in evaluators if (idea_id, u) in totals]
        ranking.append(RankedIdeaView(
            **dict(summaries[idea_id]), description=ideas[idea_id].description,
            assigned=len(evaluators), scored=len(done),
            score=round(sum(done) / len(done), 1) if done else None,
            spread=round(max(done) - min(done), 1) if len(done) > 1 else None,
            your_scores={c.id: scores[idea_id, c.id, me] for c in criteria if (idea_id, c.id, me) in scores},
            your_total=totals.get((idea_id, viewer.user_id)) if viewer.user_id else None,
            yours=viewer.user_id in evaluators))
    ranking.sort(key=lambda r: (r.score is None, -(r.score or 0), r.id))
    return BoardView(stage=stage, stage_name=service.stage_name(workflow, stage), stages=staged,
                     criteria=[CriterionOut.model_validate(c) for c in criteria], ideas=ranking, leads=leads,
                     blind=challenge.blind, challenge_id=challenge.id, challenge_title=challenge.title)
