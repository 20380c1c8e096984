"""Exit criteria, checked every day: when one is met, the parties' administrators are
told with the evidence and the project shows "review: continue, change or exit".

A criterion that cannot be checked (no milestone due yet, no agreement linked) says why
instead of passing or failing. Evidence never names an item narrowed to some parties
only: every party's administrators read it.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from innonet.accounts import service as accounts
from innonet.db import transaction, utcnow
from innonet.jobs.service import JobContext, job_kind
from innonet.projects import service
from innonet.projects.models import (
    PROJECT_KPIS,
    ExitCriterion,
    JointProject,
    Milestone,
    ProjectEvent,
    ProjectReview,
)
from innonet.roles import operator
from innonet.sharing.schemas import AgreementRef

EXIT_JOB = "projects.exit_check"


@dataclass(frozen=True)
class Finding:
    state: str  # "ok", "met" or "unknown"
    evidence: str
    cause: str = ""  # what met it, stable from day to day (ids, not day counts)


def _label(m: Milestone) -> str:
    kind = "deliverable" if m.kind == "deliverable" else "milestone"
    return f"a {kind} shown to some parties only" if m.narrowed else f"the {kind} “{m.title}”"


def _late(milestones: list[Milestone], days: int, today: date) -> Finding:
    if not milestones:
        return Finding("unknown", "no milestone or deliverable is planned yet")
    late = [(m, n) for m, n in service.late_items(milestones, today) if n > days]
    if not late:
        return Finding("ok", f"no milestone or deliverable is more than {days} days late")
    words = "; ".join(f"{_label(m)}, due {m.due_on}, is {n} days late" for m, n in late[:5])
    return Finding("met", words + (f"; and {len(late) - 5} more" if len(late) > 5 else ""),
                   "late:" + ",".join(str(m.id) for m, _ in late))


def project_kpi(kpi: str, milestones: list[Milestone], today: date) -> tuple[float | None, str]:
    """A project figure (a percentage) and how it was counted; None when nothing was due yet."""
    due = [m for m in milestones if m.status != "cancelled" and m.due_on <= today
           and (kpi != "deliverables_done" or m.kind == "deliverable")]
    if not due:
        what = "deliverable" if kpi == "deliverables_done" else "milestone or deliverable"
        return None, f"no {what} was due yet"
    if kpi == "milestones_on_time":
        good = [m for m in due if m.status == "done" and m.done_on is not None and m.done_on <= m.due_on]
        return 100 * len(good) / len(due), f"{len(good)} of {len(due)} due were done by their due date"
    good = [m for m in due if m.status == "done"]
    return 100 * len(good) / len(due), f"{len(good)} of {len(due)} deliverables due are done"


def _kpi_below(criterion: ExitCriterion, milestones: list[Milestone], today: date) -> Finding:
    value, counted = project_kpi(criterion.kpi or "", milestones, today)
    name = PROJECT_KPIS[criterion.kpi or ""].split(" (")[0]
    if value is None:
        return Finding("unknown", f"{name}: {counted}, so it cannot be computed")
    threshold = criterion.threshold or 0
    words = f"{name}: {value:.0f} % ({counted}); the threshold is {threshold:g} %"
    return Finding("met", words, f"kpi:{criterion.kpi}") if value < threshold else Finding("ok", words)


def _agreements(agreements: list[AgreementRef], days: int, today: date) -> Finding:
    if not agreements:
        return Finding("unknown", "no agreement is linked to the project")
    # The evidence is read by everyone who reads the project: it names no agreement, its
    # status or its dates (the insiders of its parties read those on the agreement).
    problems, causes = [], []
    for a in agreements:
        if not a.in_force:
            problems.append("a linked agreement is no longer in force")
            causes.append(str(a.id))
        elif a.end_date is not None and (a.end_date - today).days <= days:
            problems.append(f"a linked agreement ends within {days} days")
            causes.append(str(a.id))
    if problems:
        return Finding("met", "; ".join(dict.fromkeys(problems)), "agreements:" + ",".join(causes))
    open_ended = [a for a in agreements if a.end_date is None]
    return Finding("ok", f"every linked agreement is in force{' (some have no end date)' if open_ended else ''}")


def evaluate(criterion: ExitCriterion, *, project: JointProject, milestones: list[Milestone],
             agreements: list[AgreementRef], today: date) -> Finding:
    days = criterion.days or 0
    if criterion.kind == "milestone_late":
        return _late(milestones, days, today)
    if criterion.kind == "inactive":
        idle = (today - project.last_activity_at.date()).days
        words = f"the last activity was on {project.last_activity_at.date()} ({idle} days ago)"
        return Finding("met", words, "inactive") if idle > days else Finding("ok", words)
    if criterion.kind == "kpi_below":
        return _kpi_below(criterion, milestones, today)
    return _agreements(agreements, days, today)


def check_project(session: Session, *, project: JointProject, today: date, now: datetime) -> ProjectReview | None:
    """Check one running project's exit criteria; raise a review when one is met by a cause
    not reviewed before. Returns the review raised, if any."""
    criteria = list(session.scalars(select(ExitCriterion).where(ExitCriterion.project_id == project.id)
                                    .order_by(ExitCriterion.id)))
    if not criteria:
        return None
    milestones = list(session.scalars(select(Milestone).where(Milestone.project_id == project.id)))
    agreements = service.agreements_of(session, operator(today), project_id=project.id)
    met = []
    for criterion in criteria:
        finding = evaluate(criterion, project=project, milestones=milestones, agreements=agreements, today=today)
        criterion.state, criterion.evidence, criterion.checked_at = finding.state, finding.evidence[:1000], now
        if finding.state == "met":
            met.append((criterion, finding))
    if not met:
        return None
    cause = "|".join(f"{c.id}:{f.cause}" for c, f in met)[:500]
    last = session.scalar(select(ProjectReview).where(ProjectReview.project_id == project.id)
                          .order_by(ProjectReview.raised_at.desc(), ProjectReview.id.desc()).limit(1))
    if last is not None and (last.decision is None or last.cause == cause):
        return None  # already under review, or the parties decided on this very cause
    evidence = " · ".join(f"{service.criterion_words(c)}: {f.evidence}" for c, f in met)[:2000]
    review = ProjectReview(project_id=project.id, raised_at=now, evidence=evidence, cause=cause)
    session.add(review)
    session.add(ProjectEvent(project_id=project.id, at=now, actor="daily check", kind="review_raised",
                             text=f"exit review raised: {evidence}"[:500]))
    admins = accounts.admins_of(session, organisation_ids=service.party_ids(session, project_id=project.id))
    accounts.notify_people(session, user_ids=admins, kind="exit_review", link=f"/joint-projects/{project.id}#review",
                           message=f"Exit review for “{project.title}”: {evidence}")
    session.flush()
    return review


def check_all(session: Session, *, today: date, now: datetime | None = None) -> dict:
    """Check every running project's exit criteria."""
    now = now or utcnow()
    checked = raised = 0
    for project in session.scalars(select(JointProject).where(JointProject.state == "active").where(
            JointProject.id.in_(select(ExitCriterion.project_id))).order_by(JointProject.id)):
        checked += 1
        raised += check_project(session, project=project, today=today, now=now) is not None
    return {"projects_checked": checked, "reviews_raised": raised}


@job_kind(EXIT_JOB, title="Check the joint projects' exit criteria", daily=True)
def _daily_exit_check(context: JobContext) -> dict:
    now = utcnow()
    with transaction(context.sessions) as session:
        return check_all(session, today=now.date(), now=now)


