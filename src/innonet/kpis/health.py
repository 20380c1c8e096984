"""Partnership health: a score from 0 to 100 for each partnership and each joint project,
made of factors that each say what they add and why (as the partner finder explains its
scores), and the quarterly check-ins the parties answer (docs/methods.md, "Partnership
health").

A partnership is an organisation's tie with one partner that it manages: a relationship it
recorded that has not ended, or a running joint project they share.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from innonet.collaborations.models import Participation, Project, Relationship
from innonet.db import insert_once, utcnow
from innonet.errors import Conflict, InvalidInput, NotFound
from innonet.kpis import service
from innonet.kpis.models import CHECKIN_QUESTIONS, CheckIn
from innonet.kpis.schemas import (
    AnswerOut,
    CheckInIn,
    CheckInsOut,
    FactorOut,
    HealthScore,
    PartnershipDetailOut,
    PartnershipHealth,
    PartnershipOut,
    ProjectHealthOut,
    ProjectRef,
    WaitingOut,
)
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.projects import exits
from innonet.projects import service as projects
from innonet.projects.models import (
    BackgroundIp,
    Decision,
    JointProject,
    Milestone,
    ProjectParty,
    ProjectResult,
    Risk,
)
from innonet.roles import Viewer, ensure_can_write
from innonet.sharing.models import Agreement, AgreementParty
from innonet.sharing.policy import in_force_condition
from innonet.sharing.schemas import AgreementRef

# Each factor's weight: its most points when every factor can be judged (they add to 100).
FACTORS = {
    "recency": ("Recent activity", 30),
    "milestones": ("Milestones on time", 15),
    "reciprocity": ("Both sides contributing", 15),
    "outcomes": ("Outcomes", 15),
    "agreement": ("Agreement in force", 10),
    "checkin": ("Latest check-in", 15),
}
OUTCOME_VALUES = {"succeeded": 1.0, "partly": 0.5, "stopped": 0.0}
DAYS_PER_MONTH = 30.44
FRESH_DAYS = 30  # activity this recent counts fully
ITEM_MODELS = (Milestone, Risk, Decision, BackgroundIp, ProjectResult)


@dataclass
class Factor:
    factor: str
    value: float | None   # 0-1, None when it cannot be judged
    reason: str


def score(factors: list[Factor]) -> HealthScore:
    """The 0-100 score from the factors that can be judged, each with its points out of its
    most (weights rescaled over the factors judged); None when none can be."""
    judged = sum(FACTORS[f.factor][1] for f in factors if f.value is not None)
    rows: list[FactorOut] = []
    for f in factors:
        label, weight = FACTORS[f.factor]
        most = 100 * weight / judged if judged and f.value is not None else None
        rows.append(FactorOut(factor=f.factor, label=label, value=f.value, reason=f.reason,
                              points=round(most * f.value, 1) if most is not None and f.value is not None else None,
                              most=round(most, 1) if most is not None else None))
    total = sum(r.points for r in rows if r.points is not None)
    return HealthScore(score=round(total) if judged else None, factors=rows)


def _recency(last: tuple[date, str] | None, today: date, decay_months: int) -> Factor:
    if last is None:
        return Factor("recency", None, "no shared activity recorded")
    day, what = last
    idle = max(0, (today - day).days)
    limit = decay_months * DAYS_PER_MONTH
    value = 1.0 if idle <= FRESH_DAYS else max(0.0, 1 - (idle - FRESH_DAYS) / max(limit - FRESH_DAYS, 1))
    return Factor("recency", round(value, 3), f"last activity {day.isoformat()} ({idle} days ago): {what}")


def _milestones(milestones: list[Milestone], today: date) -> Factor:
    value, words = exits.project_kpi("milestones_on_time", milestones, today)
    return Factor("milestones", None if value is None else round(value / 100, 3), words)


def _reciprocity(counts: dict[int, int], direction: str | None) -> Factor:
    contributed = sorted(counts.values())
    if len(contributed) >= 2 and sum(contributed) >= 2:
        value = contributed[0] / contributed[-1] if contributed[-1] else 0.0
        shares = ", ".join(str(c) for c in contributed[::-1])
        return Factor("reciprocity", round(value, 3), f"items each side recorded in shared projects: {shares}")
    if direction == "mutual":
        return Factor("reciprocity", 1.0, "the relationship is recorded as going both ways")
    if direction in ("to_partner", "from_partner"):
        return Factor("reciprocity", 0.5, "the relationship is recorded as going one way")
    return Factor("reciprocity", None, "too few items in shared projects to judge")


def _outcomes(outcomes: list[str | None], results: int, running: bool) -> Factor:
    judged = [OUTCOME_VALUES[o] for o in outcomes if o in OUTCOME_VALUES]
    if judged:
        return Factor("outcomes", round(sum(judged) / len(judged), 3),
                      f"{len(judged)} closed project(s): " + ", ".join(o for o in outcomes if o))
    if results:
        return Factor("outcomes", 1.0, f"{results} result(s) recorded so far")
    return Factor("outcomes", None, "no closed project or result yet" if running else "no shared project")


def _agreement(agreements: list[AgreementRef], today: date, days: int) -> Factor:
    if agreements and not any(a.readable for a in agreements):
        return Factor("agreement", None, "an agreement is linked; only its parties read it")
    agreements = [a for a in agreements if a.readable]
    if not agreements:
        return Factor("agreement", None, "no agreement between you")
    in_force = [a for a in agreements if a.in_force]
    if not in_force:
        return Factor("agreement", 0.0, "no agreement in force: " + ", ".join(
            f"“{a.title}” {a.status}" for a in agreements[:3]))
    lasting = [a for a in in_force if a.end_date is None or (a.end_date - today).days > days]
    if lasting:
        return Factor("agreement", 1.0, f"“{lasting[0].title}” in force")
    soonest = min(in_force, key=lambda a: a.end_date or date.max)
    ends = soonest.end_date or date.max
    return Factor("agreement", 0.5, f"“{soonest.title}” ends on {ends} (in {(ends - today).days} days)")


def _checkin(answers: list[CheckIn], *, readable: bool = True) -> Factor:
    if not readable:
        return Factor("checkin", None, "only the parties' members read the check-ins")
    if not answers:
        return Factor("checkin", None, "no check-in answered yet")
    quarter = max(a.quarter for a in answers)
    latest = [a for a in answers if a.quarter == quarter]
    mean = sum(average(a) for a in latest) / len(latest)
    return Factor("checkin", round((mean - 1) / 4, 3), f"{quarter}: average {mean:.1f} of 5 "
                                                       f"({len(latest)} answer{'s' if len(latest) > 1 else ''})")


def average(answer: CheckIn) -> float:
    return sum(getattr(answer, q) for q in CHECKIN_QUESTIONS) / len(CHECKIN_QUESTIONS)


# ---------------------------------------------------------------- check-ins

def visible_answers(answers: list[CheckIn], organisation_id: int) -> list[CheckIn]:
    """The answers one side may read: its own, and the others' of each quarter it answered."""
    answered = {a.quarter for a in answers if a.organisation_id == organisation_id}
    return [a for a in answers if a.organisation_id == organisation_id or a.quarter in answered]


def _partnership_answers(session: Session, organisation_id: int, partner_id: int) -> list[CheckIn]:
    return list(session.scalars(select(CheckIn).where(or_(
        (CheckIn.organisation_id == organisation_id) & (CheckIn.partner_id == partner_id),
        (CheckIn.organisation_id == partner_id) & (CheckIn.partner_id == organisation_id)))
        .order_by(CheckIn.quarter, CheckIn.id)))


def _project_answers(session: Session, project_id: int) -> list[CheckIn]:
    return list(session.scalars(select(CheckIn).where(CheckIn.project_id == project_id)
                                .order_by(CheckIn.quarter, CheckIn.id)))


def _save_answer(session: Session, viewer: Viewer, row: CheckIn, data: CheckInIn) -> CheckIn:
    quarter = data.quarter or service.quarter_of(viewer.today).label
    if service.parse_period(quarter, field="quarter").start > viewer.today:
        raise InvalidInput.for_field("quarter", f"{quarter} has not begun yet")
    row.quarter = quarter
    for name in (*CHECKIN_QUESTIONS, "comment"):
        setattr(row, name, getattr(data, name))
    row.user_id, row.answered_at = viewer.user_id, utcnow()
    if not insert_once(session, row):
        raise Conflict(f"Your organisation has answered the check-in for {quarter} already.")
    return row


def answer_partnership(session: Session, viewer: Viewer, *, external_id: str, partner: str,
                       data: CheckInIn) -> CheckIn:
    """One side's quarterly check-in on a partnership (its members; once per quarter)."""
    ensure_can_write(viewer)
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    other = _partner(session, viewer, organisation, partner)
    return _save_answer(session, viewer, CheckIn(organisation_id=organisation.id, partner_id=other.id), data)


def answer_project(session: Session, viewer: Viewer, *, project_id: int, data: CheckInIn) -> CheckIn:
    """One party's quarterly check-in on a joint project (its members; once per quarter)."""
    project, party = service.party_acting(session, viewer, project_id=project_id, organisation=data.organisation,
                                          doing="answer the project's check-in")
    return _save_answer(session, viewer, CheckIn(organisation_id=party, project_id=project.id), data)


def answers_view(session: Session, answers: list[CheckIn], organisation_id: int) -> CheckInsOut:
    """The answers one side may read, and per quarter how many others' wait for its own."""
    names = organisations.organisations_by_id(session, ids={a.organisation_id for a in answers})
    shown = visible_answers(answers, organisation_id)
    waiting: dict[str, int] = defaultdict(int)
    for a in answers:
        if a not in shown:
            waiting[a.quarter] += 1
    return CheckInsOut(
        answers=[AnswerOut(quarter=a.quarter, organisation=names[a.organisation_id].external_id,
                           organisation_name=names[a.organisation_id].name, own=a.organisation_id == organisation_id,
                           value=a.value, trust=a.trust, communication=a.communication, fairness=a.fairness,
                           comment=a.comment, average=round(average(a), 2), answered_at=a.answered_at)
                 for a in shown],
        waiting=[WaitingOut(quarter=q, answers=n) for q, n in sorted(waiting.items())])


# ---------------------------------------------------------------- partnerships

def _partner(session: Session, viewer: Viewer, organisation: Organisation, external_id: str) -> Organisation:
    other = organisations.get_organisation(session, external_id=external_id)
    if other.id not in partnerships_of(session, viewer, organisation=organisation):
        raise NotFound(f"{organisation.name} has no partnership with {other.name} "
                       "(a relationship it recorded or a running joint project).")
    return other


def partnerships_of(session: Session, viewer: Viewer, *, organisation: Organisation) -> dict[int, str | None]:
    """Partner id -> the direction of the relationship recorded with it (None for a
    partnership through joint projects only)."""
    found: dict[int, str | None] = {}
    for partner, direction in session.execute(select(Relationship.partner_id, Relationship.direction).where(
            Relationship.organisation_id == organisation.id,
            or_(Relationship.end_date.is_(None), Relationship.end_date >= viewer.today))):
        found[partner] = direction if found.get(partner) in (None, direction) else "mutual"
    ours = aliased(ProjectParty)  # a subquery of its own (not correlated with the outer party)
    running = select(ours.project_id).join(JointProject, JointProject.id == ours.project_id).where(
        ours.organisation_id == organisation.id, JointProject.state == "active",
        projects.project_condition(viewer))
    # Aliased too: the read rule's own subqueries on project parties must not correlate with it.
    others = aliased(ProjectParty)
    for partner in session.scalars(select(others.organisation_id).where(
            others.project_id.in_(running), others.organisation_id != organisation.id).distinct()):
        found.setdefault(partner, None)
    return found


def _shared_projects(session: Session, viewer: Viewer, organisation_id: int,
                     partner_ids: Iterable[int]) -> dict[int, list[JointProject]]:
    """Partner id -> the joint projects (running or closed) the viewer may read that both share."""
    ours = aliased(ProjectParty)
    mine = select(ours.project_id).where(ours.organisation_id == organisation_id)
    others = aliased(ProjectParty)
    rows = session.execute(select(others.organisation_id, JointProject).join(
        JointProject, JointProject.id == others.project_id).where(
        others.project_id.in_(mine), others.organisation_id.in_(list(partner_ids)),
        projects.project_condition(viewer)))
    shared: dict[int, list[JointProject]] = defaultdict(list)
    for partner, project in rows:
        shared[partner].append(project)
    return shared


def _items_by_party(session: Session, viewer: Viewer, project_ids: list[int]) -> dict[int, dict[int, int]]:
    """Project id -> party id -> items that party recorded (what the viewer may read)."""
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for model in ITEM_MODELS:
        for project_id, party, n in session.execute(
                select(model.project_id, model.organisation_id, func.count()).where(
                    model.project_id.in_(project_ids), projects.item_condition(viewer, model))
                .group_by(model.project_id, model.organisation_id)):
            counts[project_id][party] += n
    return counts


def _agreements_between(session: Session, organisation_id: int, partner_id: int,
                        today: date) -> list[AgreementRef]:
    theirs = aliased(AgreementParty)
    both = select(theirs.agreement_id).where(theirs.organisation_id == partner_id)
    ids = list(session.scalars(select(AgreementParty.agreement_id).where(
        AgreementParty.organisation_id == organisation_id, AgreementParty.agreement_id.in_(both))))
    ids += list(session.scalars(select(Agreement.id).where(or_(
        (Agreement.owner_id == organisation_id) & Agreement.id.in_(both),
        (Agreement.owner_id == partner_id) & Agreement.id.in_(
            select(AgreementParty.agreement_id).where(AgreementParty.organisation_id == organisation_id))))))
    in_force = set(session.scalars(select(Agreement.id).where(Agreement.id.in_(ids), in_force_condition(today))))
    # The organisation is party to each: it reads them all.
    return [AgreementRef(id=a.id, kind=a.kind, title=a.title, status=a.status, start_date=a.start_date,
                         end_date=a.end_date, in_force=a.id in in_force, readable=True)
            for a in session.scalars(select(Agreement).where(Agreement.id.in_(set(ids))).order_by(Agreement.id))]


def _last_public_project(session: Session, organisation_id: int, partner_id: int,
                         today: date) -> tuple[date, str] | None:
    """(day, words) of the latest activity in public projects both took part in."""
    theirs = select(Participation.project_id).where(Participation.organisation_id == partner_id)
    row = session.execute(select(Project.acronym, Project.title, Project.end_date, Project.start_date)
                          .join(Participation, Participation.project_id == Project.id)
                          .where(Participation.organisation_id == organisation_id, Project.id.in_(theirs),
                                 Project.start_date <= today)
                          .order_by(func.coalesce(Project.end_date, Project.start_date).desc()).limit(1)).first()
    if row is None:
        return None
    day = min(row.end_date or row.start_date, today)
    return day, f"public project {row.acronym or row.title or ''}".strip()


def _results(session: Session, viewer: Viewer, shared: list[JointProject]) -> int:
    return session.scalar(select(func.count()).select_from(ProjectResult).where(
        ProjectResult.project_id.in_([p.id for p in shared]), projects.item_condition(viewer, ProjectResult))) or 0


def partnership_health(session: Session, viewer: Viewer, *, organisation: Organisation, partner_id: int,
                       direction: str | None, shared: list[JointProject], items: dict[int, dict[int, int]],
                       decay_months: int, agreement_days: int) -> PartnershipHealth:
    """One partnership's score and factors, from what the viewer may read."""
    today = viewer.today
    activity = []
    relationship = session.execute(select(func.max(Relationship.updated_at), func.max(Relationship.start_date)).where(
        Relationship.organisation_id == organisation.id, Relationship.partner_id == partner_id)).first()
    if relationship and relationship[0]:
        activity.append((max(relationship[0].date(), relationship[1] or date.min), "relationship recorded or updated"))
    for p in shared:
        activity.append((p.last_activity_at.date(), f"joint project “{p.title}”"))
    if (public := _last_public_project(session, organisation.id, partner_id, today)) is not None:
        activity.append(public)
    answers = visible_answers(_partnership_answers(session, organisation.id, partner_id), organisation.id)
    if answers:
        last = max(answers, key=lambda a: a.answered_at)
        activity.append((last.answered_at.date(), f"check-in {last.quarter}"))
    milestones = list(session.scalars(select(Milestone).where(
        Milestone.project_id.in_([p.id for p in shared]), projects.item_condition(viewer, Milestone))))
    counts: dict[int, int] = defaultdict(int)
    for p in shared:
        for party in (organisation.id, partner_id):
            counts[party] += items.get(p.id, {}).get(party, 0)
    factors = [
        _recency(max(activity) if activity else None, today, decay_months),
        _milestones(milestones, today),
        _reciprocity(dict(counts) if shared else {}, direction),
        _outcomes([p.outcome for p in shared if p.state == "closed"], _results(session, viewer, shared),
                  any(p.state == "active" for p in shared)),
        _agreement(_agreements_between(session, organisation.id, partner_id, today), today, agreement_days),
        _checkin(answers),
    ]
    return PartnershipHealth(**dict(score(factors)), last_activity=max(activity)[0] if activity else None,
                             projects=[ProjectRef(id=p.id, title=p.title, state=p.state) for p in shared])


def partnerships(session: Session, viewer: Viewer, *, external_id: str) -> list[PartnershipOut]:
    """Every partnership of the organisation with its health, weakest first (its members)."""
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    return partnership_rows(session, viewer, organisation=organisation)


def partnership_rows(session: Session, viewer: Viewer, *, organisation: Organisation) -> list[PartnershipOut]:
    """Every partnership of the organisation with its health, weakest first, as the viewer reads them."""
    thresholds = service.thresholds_of(session, organisation_id=organisation.id)
    found = partnerships_of(session, viewer, organisation=organisation)
    shared = _shared_projects(session, viewer, organisation.id, found)
    items = _items_by_party(session, viewer, sorted({p.id for ps in shared.values() for p in ps}))
    names = organisations.organisations_by_id(session, ids=found)
    rows = []
    for partner_id, direction in found.items():
        health = partnership_health(session, viewer, organisation=organisation, partner_id=partner_id,
                                    direction=direction, shared=shared.get(partner_id, []), items=items,
                                    decay_months=thresholds.decay_months, agreement_days=thresholds.agreement_days)
        partner = names[partner_id]
        rows.append(PartnershipOut(partner=partner.external_id, partner_name=partner.name, country=partner.country,
                                   **dict(health)))
    rows.sort(key=lambda r: (r.score is None, r.score if r.score is not None else 0, r.partner_name))
    return rows


def partnership(session: Session, viewer: Viewer, *, external_id: str, partner: str) -> PartnershipDetailOut:
    """One partnership's health and check-ins."""
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    other = _partner(session, viewer, organisation, partner)
    thresholds = service.thresholds_of(session, organisation_id=organisation.id)
    direction = partnerships_of(session, viewer, organisation=organisation)[other.id]
    shared = _shared_projects(session, viewer, organisation.id, [other.id]).get(other.id, [])
    items = _items_by_party(session, viewer, [p.id for p in shared])
    health = partnership_health(session, viewer, organisation=organisation, partner_id=other.id, direction=direction,
                                shared=shared, items=items, decay_months=thresholds.decay_months,
                                agreement_days=thresholds.agreement_days)
    answers = answers_view(session, _partnership_answers(session, organisation.id, other.id), organisation.id)
    return PartnershipDetailOut(
        partner=other.external_id, partner_name=other.name, country=other.country, **dict(health),
        check_ins=answers, answered_this_quarter=any(a.own and a.quarter == service.quarter_of(viewer.today).label
                                                     for a in answers.answers))


def project_health(session: Session, viewer: Viewer, *, project_id: int) -> ProjectHealthOut:
    """A joint project's health and the check-ins the viewer's party may read."""
    project = projects.get_project(session, viewer, project_id=project_id, log=False)
    parties = projects.party_ids(session, project_id=project.id)
    mine = [o for o in parties if o in viewer.member_of]
    # Check-ins are read by the members of a party only (never its guests, visitors or
    # other readers of the project, whatever its visibility); the command line reads all.
    side = mine[0] if mine else None
    thresholds = service.thresholds_of(session, organisation_id=side or project.organisation_id)
    today = viewer.today
    all_answers = _project_answers(session, project.id) if side or viewer.is_operator else []
    answers = all_answers if viewer.is_operator else visible_answers(all_answers, side or 0)
    milestones = list(session.scalars(select(Milestone).where(
        Milestone.project_id == project.id, projects.item_condition(viewer, Milestone))))
    counts = _items_by_party(session, viewer, [project.id]).get(project.id, {})
    results = _results(session, viewer, [project])
    idle = (project.last_activity_at.date(), "the last change in the project")
    factors = [
        _recency(idle, today, thresholds.decay_months),
        _milestones(milestones, today),
        _reciprocity({p: counts.get(p, 0) for p in parties}, None),
        _outcomes([project.outcome] if project.state == "closed" else [], results, project.state == "active"),
        _agreement(projects.agreements_of(session, viewer, project_id=project.id), today, thresholds.agreement_days),
        _checkin(answers, readable=bool(side) or viewer.is_operator),
    ]
    return ProjectHealthOut(
        **dict(score(factors)), project=ProjectRef(id=project.id, title=project.title, state=project.state),
        may_answer=bool(side), check_ins=answers_view(session, all_answers, side or project.organisation_id),
        answered_this_quarter=any(a.organisation_id == side and a.quarter == service.quarter_of(today).label
                                  for a in all_answers))


def latest_low_answers(session: Session, *, below: float, quarter: str) -> list[CheckIn]:
    """This quarter's answers whose average is below ``below``."""
    return [a for a in session.scalars(select(CheckIn).where(CheckIn.quarter == quarter)) if average(a) < below]
