"""What a reader sees of a project: its page, summaries, activity, timeline, export and
cultural briefing."""

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from innonet.accounts import service as accounts
from innonet.matching import service as matching
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationSummary
from innonet.projects.access import acting_for, event_condition, get_project, may_manage, party_ids
from innonet.projects.items import item_values, visible_items
from innonet.projects.models import (
    FOREGROUND_MEANINGS,
    PROJECT_KPIS,
    ExitCriterion,
    JointProject,
    Milestone,
    ProjectAgreement,
    ProjectEvent,
    ProjectParty,
    ProjectPerson,
    ProjectReview,
    WorkPackage,
)
from innonet.projects.schemas import (
    BriefingOut,
    EventOut,
    ProjectExport,
    ProjectOut,
    ProjectSummary,
    ProjectView,
    Timeline,
    TimelineBar,
    TimelineMark,
    TimelineTick,
)
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementRef


def late_items(milestones: list[Milestone], today: date) -> list[tuple[Milestone, int]]:
    """(milestone, days late) for the planned ones past their due date, latest first."""
    late = [(m, (today - m.due_on).days) for m in milestones if m.status == "planned" and m.due_on < today]
    return sorted(late, key=lambda pair: -pair[1])


def project_view(session: Session, viewer: Viewer, *, project: JointProject) -> ProjectView:
    """One project with only what the viewer may read."""
    parties = session.execute(select(ProjectParty.organisation_id, ProjectParty.role).where(
        ProjectParty.project_id == project.id).order_by(ProjectParty.id)).all()
    people = session.execute(select(ProjectPerson).where(ProjectPerson.project_id == project.id)
                             .order_by(ProjectPerson.id)).scalars().all()
    items = visible_items(session, viewer, project=project)
    values = item_values(session, items=items)
    ids = {o for o, _ in parties} | {project.organisation_id} | {p.organisation_id for p in people}
    ids |= {project.assignee_id} if project.assignee_id else set()
    names = accounts.people_by_id(session, ids=[p.user_id for p in people])
    for found in items.values():
        ids |= {i.organisation_id for i in found}
    by_id = organisations.organisations_by_id(session, ids=ids)
    by_external = {o.external_id: o for o in by_id.values()}
    agreements = agreements_of(session, viewer, project_id=project.id)
    reviews = session.scalars(select(ProjectReview).where(ProjectReview.project_id == project.id)
                              .order_by(ProjectReview.raised_at.desc())).all()
    deciders = accounts.people_by_id(session, ids=[r.decided_by_id for r in reviews if r.decided_by_id])
    criteria = session.scalars(select(ExitCriterion).where(ExitCriterion.project_id == project.id)
                               .order_by(ExitCriterion.id)).all()
    acting = acting_for(session, viewer, project)
    open_to_change = project.state != "closed"
    return ProjectView.model_validate(dict(sharing.sharing_view(session, viewer, items=[project])[project.id]) | {
        "id": project.id, "title": project.title, "summary": project.summary,
        "organisation": by_id[project.organisation_id], "state": project.state, "origin": project.origin,
        "start_date": project.start_date, "end_date": project.end_date, "idea": project.idea_id,
        "challenge": project.challenge_id, "evaluation": project.evaluation,
        "foreground_rule": project.foreground_rule, "foreground_meaning": FOREGROUND_MEANINGS[project.foreground_rule],
        "assignee": by_id.get(project.assignee_id) if project.assignee_id else None,
        "parties": [{"organisation": by_id[o], "role": role, "country": by_id[o].country} for o, role in parties],
        "people": [{"user_id": p.user_id, "name": names[p.user_id][0] or names[p.user_id][1],
                    "organisation": by_id[p.organisation_id], "title": p.title} for p in people if p.user_id in names],
        "agreements": agreements,
        "items": {item_type: [{
            "id": i.id, "type": item_type, "organisation": by_id[i.organisation_id],
            "audience": [by_external[e] for e in values[item_type][i.id]["audience"] if e in by_external]
            if i.narrowed else None,
            "fields": {k: v for k, v in values[item_type][i.id].items() if k != "audience"},
            "created_at": i.created_at, "updated_at": i.updated_at} for i in found]
            for item_type, found in items.items()},
        "exit_criteria": [{"id": c.id, "kind": c.kind, "description": criterion_words(c), "days": c.days,
                           "kpi": c.kpi, "threshold": c.threshold, "state": c.state, "evidence": c.evidence,
                           "checked_at": c.checked_at} for c in criteria],
        "reviews": [{"id": r.id, "raised_at": r.raised_at, "evidence": r.evidence, "decision": r.decision,
                     "note": r.note, "decided_at": r.decided_at,
                     "decided_by": (deciders[r.decided_by_id][0] or deciders[r.decided_by_id][1])
                     if r.decided_by_id in deciders else None} for r in reviews],
        "review_open": any(r.decision is None for r in reviews),
        "outcome": project.outcome, "closed_on": project.closed_on, "results_summary": project.results_summary,
        "lessons": project.lessons, "last_activity_at": project.last_activity_at,
        "may_manage": may_manage(viewer, project) and open_to_change,
        "may_contribute": viewer.can_write and bool(acting or viewer.is_operator) and open_to_change,
        "created_at": project.created_at,
        "acting_for": [by_id[o].external_id for o in acting],
        "may_remove": [by_id[o].external_id for o, role in parties if role != "lead" and open_to_change and (
            may_manage(viewer, project) or viewer.admin_of(o))],
    })


def criterion_words(criterion: ExitCriterion) -> str:
    if criterion.kind == "milestone_late":
        return f"A milestone or deliverable is more than {criterion.days} days late"
    if criterion.kind == "inactive":
        return f"Nothing happens in the project for {criterion.days} days"
    if criterion.kind == "agreement_expiring":
        return f"A linked agreement ends within {criterion.days} days, or is no longer in force"
    return f"{PROJECT_KPIS[criterion.kpi or '']} below {criterion.threshold:g} %"


def agreements_of(session: Session, viewer: Viewer, *, project_id: int) -> list[AgreementRef]:
    ids = list(session.scalars(select(ProjectAgreement.agreement_id).where(ProjectAgreement.project_id == project_id)
                               .order_by(ProjectAgreement.id)))
    return sharing.agreement_summaries(session, viewer, ids=ids)


def summaries(session: Session, viewer: Viewer, *, projects: list[JointProject]) -> list[ProjectSummary]:
    """Projects in a line each."""
    ids = [p.id for p in projects]
    counts: dict[int, int] = defaultdict(int)
    for project_id in session.scalars(select(ProjectParty.project_id).where(ProjectParty.project_id.in_(ids))):
        counts[project_id] += 1
    open_reviews = set(session.scalars(select(ProjectReview.project_id).where(
        ProjectReview.project_id.in_(ids), ProjectReview.decision.is_(None))))
    by_id = organisations.organisations_by_id(session, ids=[p.organisation_id for p in projects])
    return [ProjectSummary(id=p.id, title=p.title, organisation=OrganisationSummary.model_validate(
        by_id[p.organisation_id]), state=p.state, start_date=p.start_date, end_date=p.end_date,
        parties=counts[p.id], review_open=p.id in open_reviews, outcome=p.outcome) for p in projects]


def events_of(session: Session, viewer: Viewer, *, project: JointProject, limit: int = 100) -> list[ProjectEvent]:
    """The project's activity, newest first, leaving out events about items the viewer did
    not see when they happened."""
    return list(session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                                           event_condition(viewer))
                                .order_by(ProjectEvent.at.desc(), ProjectEvent.id.desc()).limit(limit)))


def _ticks(start: date, end: date) -> list[date]:
    """Month starts between the dates; every third (quarters) or twelfth (years) when there are many."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):  # never a month past the last date (9999-12 has none)
        if date(year, month, 1) >= start:
            months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    step = 1 if len(months) <= 12 else 3 if len(months) <= 36 else 12
    return [m for m in months if (m.month - 1) % step == 0] if step > 1 else months


def timeline(project: JointProject, *, work_packages: list[WorkPackage], milestones: list[Milestone],
             today: date) -> Timeline:
    """Where each work package's bar and each milestone's mark go on a time axis from the
    project's start to its end (or its last date), in percent of the axis."""
    dates = [project.start_date, project.end_date or project.start_date, today]
    dates += [d for wp in work_packages for d in (wp.start_date, wp.end_date) if d]
    dates += [m.due_on for m in milestones] + [m.planned_on for m in milestones]
    start, end = project.start_date, max(dates)
    span = max((end - start).days, 1)

    def at(day: date) -> float:
        return round(100 * min(max((day - start).days, 0), span) / span, 2)

    bars = []
    for wp in work_packages:
        first, last = wp.start_date or start, wp.end_date or project.end_date or end
        bars.append(TimelineBar(id=wp.id, label=f"{wp.code} · {wp.title}", start=first, end=last,
                                left=at(first), width=max(at(last) - at(first), 1.0)))
    late = dict(late_items(milestones, today))
    marks = [TimelineMark(id=m.id, label=m.title, kind=m.kind, due_on=m.due_on, at=at(m.due_on),
                          planned_on=m.planned_on, slipped_days=(m.due_on - m.planned_on).days,
                          status=m.status, late_days=late.get(m)) for m in milestones]
    days = _ticks(start, end)
    return Timeline(start=start, end=end, bars=bars, marks=marks, ticks=_labelled(days, [at(d) for d in days]),
                    today=at(today) if start <= today <= end else None)


# How much of the axis (in percent) a month's label takes: on a wide screen, on a phone.
LABEL_ROOM, PHONE_LABEL_ROOM = 8.0, 18.0


def _labelled(days: list[date], positions: list[float]) -> list[TimelineTick]:
    """Ticks whose month is written only where the label fits: after the previous label
    and before the axis ends (every label starts at its tick and runs right)."""
    ticks = []
    last = phone_last = -100.0
    for day, at in zip(days, positions):
        label = at - last >= LABEL_ROOM and at <= 100 - LABEL_ROOM
        phone_label = label and at - phone_last >= PHONE_LABEL_ROOM and at <= 100 - PHONE_LABEL_ROOM
        last = at if label else last
        phone_last = at if phone_label else phone_last
        ticks.append(TimelineTick(date=day, at=at, label=label, phone_label=phone_label))
    return ticks


def export_project(session: Session, viewer: Viewer, *, project_id: int) -> ProjectExport:
    """The project (for ``innonet projects export``), with its activity log."""
    project = get_project(session, viewer, project_id=project_id, log=False)
    view = project_view(session, viewer, project=project)
    events = [EventOut.model_validate(e, from_attributes=True)
              for e in events_of(session, viewer, project=project, limit=10_000)]
    sharing.record_events(session, viewer, action="export", events=[(project.organisation_id, project.share_type,
                                                                     project.id)])
    return ProjectExport(**{name: getattr(view, name) for name in ProjectOut.model_fields}, activity=events)


def briefing(session: Session, viewer: Viewer, *, project: JointProject) -> BriefingOut:
    """The parties' countries compared pair by pair on Hofstede's dimensions, with what a
    cross-border team should agree on explicitly (national averages, never a judgement of people)."""
    parties = organisations.organisations_by_id(session, ids=list(party_ids(session, project_id=project.id)))
    by_country: dict[str, list[str]] = defaultdict(list)
    for organisation in sorted(parties.values(), key=lambda o: o.name):
        if organisation.country:
            by_country[organisation.country].append(organisation.name)
    found = matching.cultural_briefing(list(by_country))
    return BriefingOut(**dict(found), parties_by_country=dict(by_country),
                       without_country=sorted(o.name for o in parties.values() if not o.country))
