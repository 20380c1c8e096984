"""A challenge's figures, one definition each for the dashboard, the API and the CSV
(docs/methods.md, "Challenge metrics"). Counted over the ideas the viewer may read, merged
ideas aside; the challenge's team and gatekeepers read them all.
"""

import csv
import io
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import distinct, func, select, union
from sqlalchemy.orm import Session

from innonet.accounts import service as accounts
from innonet.challenges import evaluation, service
from innonet.challenges.models import Assignment, Challenge, Comment, Idea, IdeaAuthor, Rating, Vote
from innonet.challenges.schemas import AgreementFigures, ChallengeMetrics, WeekCount
from innonet.errors import Forbidden
from innonet.roles import Viewer

# Evaluators whose totals for an idea differ by less than this agree (the board flags more).
AGREEMENT_POINTS = 30


def challenge_metrics(session: Session, viewer: Viewer, *, challenge_id: int) -> ChallengeMetrics:
    """Ideas (in all and per week), support, discussion, participation, each stage's reach,
    conversion and time spent in it, and how far evaluators agree."""
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id)
    if not (service.may_manage(viewer, challenge) or service.may_decide(session, viewer, challenge)):
        raise Forbidden("The challenge's figures are for its team and gatekeepers.")
    ideas = list(session.scalars(select(Idea).where(
        Idea.challenge_id == challenge.id, Idea.merged_into_id.is_(None), service.idea_condition(viewer))))
    ids = [i.id for i in ideas]
    people = {model: select(model.user_id).where(model.idea_id.in_(ids)) for model in (Vote, Comment, Rating)}
    authors = select(IdeaAuthor.user_id).where(IdeaAuthor.idea_id.in_(ids), IdeaAuthor.confirmed_at.is_not(None))
    participants = set(session.scalars(union(authors, *people.values())))
    participants.discard(None)
    author_orgs = set(session.scalars(select(IdeaAuthor.organisation_id).where(
        IdeaAuthor.idea_id.in_(ids), IdeaAuthor.confirmed_at.is_not(None))))
    others = participants - set(session.scalars(authors))
    organisations = author_orgs | accounts.organisations_of_people(session, user_ids=others)
    weeks: dict[date, int] = defaultdict(int)
    for idea in ideas:
        day = idea.created_at.date()
        weeks[day - timedelta(days=day.weekday())] += 1
    return ChallengeMetrics(
        ideas=len(ideas),
        ideas_by_week=[WeekCount(week=w, ideas=n) for w, n in sorted(weeks.items())],
        supporters=session.scalar(select(func.count(distinct(Vote.user_id))).where(Vote.idea_id.in_(ids))) or 0,
        supports=session.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id.in_(ids))) or 0,
        comments=session.scalar(select(func.count()).select_from(Comment).where(Comment.idea_id.in_(ids))) or 0,
        participants=len(participants),
        organisations=len(organisations),
        stages=service.stage_funnel(session, ideas=ideas, workflow=challenge.workflow),
        evaluator_agreement=_agreement(session, challenge, ids),
    )


def _agreement(session: Session, challenge: Challenge, idea_ids: list[int]) -> AgreementFigures:
    """Over the ideas with two or more complete scorecards in a stage: the mean spread
    between evaluators' totals, and the share of those ideas whose spread is under
    AGREEMENT_POINTS."""
    spreads = []
    stages = {c.stage for c in service.criteria_of(session, challenge_ids=[challenge.id])[challenge.id] if c.stage}
    for stage in sorted(stages):
        criteria = evaluation.scorecard(session, challenge=challenge, stage=stage)
        pairs = [(i, u) for i, u in session.execute(select(Assignment.idea_id, Assignment.user_id).where(
            Assignment.idea_id.in_(idea_ids), Assignment.stage == stage))]
        scores = {(i, c, u): v for i, c, u, v in session.execute(select(
            Rating.idea_id, Rating.criterion_id, Rating.user_id, Rating.value).where(
            Rating.idea_id.in_(idea_ids), Rating.criterion_id.in_([c.id for c in criteria])))}
        by_idea: dict[int, list[float]] = defaultdict(list)
        for (idea_id, _), total in evaluation.evaluator_totals(criteria, scores, pairs).items():
            by_idea[idea_id].append(total)
        spreads += [max(t) - min(t) for t in by_idea.values() if len(t) > 1]
    return AgreementFigures(
        ideas=len(spreads), mean_spread=round(sum(spreads) / len(spreads), 1) if spreads else None,
        agreeing_share=round(sum(s < AGREEMENT_POINTS for s in spreads) / len(spreads), 3) if spreads else None)


CSV_COLUMNS = ("metric", "stage", "week", "value")


def metrics_csv(found: ChallengeMetrics) -> str:
    """The figures in long form: one figure a line (metric, stage or week where it has one, value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name in ("ideas", "supporters", "supports", "comments", "participants", "organisations"):
        writer.writerow([name, "", "", getattr(found, name)])
    for week in found.ideas_by_week:
        writer.writerow(["ideas_in_week", "", week.week.isoformat(), week.ideas])
    for stage in found.stages:
        for name in ("reached", "now", "conversion", "median_days"):
            value = getattr(stage, name)
            writer.writerow([f"stage_{name}", stage.stage, "", "" if value is None else value])
    agreement = found.evaluator_agreement
    for name in ("ideas", "mean_spread", "agreeing_share"):
        value = getattr(agreement, name)
        writer.writerow([f"evaluator_agreement_{name}", "", "", "" if value is None else value])
    return out.getvalue()

