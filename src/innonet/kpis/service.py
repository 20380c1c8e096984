"""The KPI catalogue (one definition each, docs/kpis.md), the figures people enter, and an
organisation's KPIs for any period with their trends, targets and the survey comparison.

An organisation's KPIs are for its members: they include what only they enter (costs,
revenues, sales). Every count goes through the same read rules as the records' own pages,
so a record of another organisation that the member may not read never moves a figure.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from innonet.analytics.diagnosis import CATEGORY_OF_KIND, PARTNER_CATEGORIES, partner_category
from innonet.challenges import service as challenges
from innonet.challenges.models import Challenge, Idea, IdeaAuthor, IdeaEvent
from innonet.challenges.schemas import StageFigures
from innonet.collaborations.models import INVERSE_KINDS, Participation, Project, Relationship
from innonet.db import insert_once, utcnow
from innonet.errors import Forbidden, InvalidInput, NotFound
from innonet.kpis.models import AlertSettings, InnovativeSales, KpiTarget, NetworkYear, ProjectFinance
from innonet.kpis.schemas import (
    CategoryCount,
    ChallengeIdeas,
    CountryCount,
    FinanceIn,
    FinanceOut,
    KpiOut,
    KpisOut,
    PortfolioYear,
    SalesIn,
    SurveyOut,
    SurveyTypeOut,
    TargetIn,
    ThresholdsIn,
    TrendPoint,
)
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.projects import service as projects
from innonet.projects.models import JointProject, ProjectParty, ProjectResult
from innonet.roles import Viewer, ensure_can_write, ensure_signed_in
from innonet.sharing import policy
from innonet.text import FIRST_YEAR, LAST_YEAR


@dataclass(frozen=True)
class Kpi:
    label: str
    group: str       # funnel | outcomes | network
    unit: str        # count | share | days | ratio | index | percentile
    better: str      # higher | lower
    per: str         # quarter (any period) | year (a yearly figure)
    formula: str


GROUPS = {"funnel": "Innovation funnel", "outcomes": "Outcomes", "network": "Network"}
CATALOGUE = {
    "ideas_submitted": Kpi("Ideas submitted", "funnel", "count", "higher", "quarter",
                           "Ideas its people wrote (to its own challenges, to others' or free ones), "
                           "submitted in the period."),
    "ideas_received": Kpi("Ideas received", "funnel", "count", "higher", "quarter",
                          "Ideas submitted to the organisation's challenges in the period."),
    "idea_selection_rate": Kpi("Ideas selected", "funnel", "share", "higher", "quarter",
                               "Of the ideas received in the period, the share that reached the "
                               "“selected” stage or a later one."),
    "idea_to_project_days": Kpi("Idea to project", "funnel", "days", "lower", "quarter",
                                "Median days from an idea's submission to the start of the joint project "
                                "made from it, for projects started in the period."),
    "project_to_result_days": Kpi("Project to first result", "funnel", "days", "lower", "quarter",
                                  "Median days from a joint project's start to its first recorded result, "
                                  "for first results recorded in the period."),
    "projects_succeeded_share": Kpi("Projects that succeeded", "outcomes", "share", "higher", "quarter",
                                    "Of the joint projects closed in the period, the share closed as "
                                    "“succeeded: it reached its goals”."),
    "results_per_project": Kpi("Results per project", "outcomes", "ratio", "higher", "quarter",
                               "Results recorded in the joint projects closed in the period, per project."),
    "roi_estimated": Kpi("Return on investment, estimated", "outcomes", "ratio", "higher", "quarter",
                         "(estimated revenue − estimated cost) ÷ estimated cost, summed over the "
                         "joint projects started in the period whose estimates the organisation entered."),
    "roi_realised": Kpi("Return on investment, realised", "outcomes", "ratio", "higher", "quarter",
                        "(realised revenue − realised cost) ÷ realised cost, summed over the joint "
                        "projects closed in the period whose realised figures the organisation entered."),
    "innovative_sales_share": Kpi("Share of innovative sales", "outcomes", "share", "higher", "year",
                                  "Sales of products new to the market or new to the firm ÷ turnover, "
                                  "in the year (the Community Innovation Survey's measure)."),
    "new_to_market_share": Kpi("Share of sales new to the market", "outcomes", "share", "higher", "year",
                               "Sales of products new to the market ÷ turnover, in the year."),
    "partners": Kpi("Partners", "network", "count", "higher", "year",
                    "Organisations sharing a public project running in the year, or a public relationship."),
    "new_partners": Kpi("New partners", "network", "count", "higher", "year",
                        "Partners of the year that were never partners in an earlier year of the data."),
    "lost_partners": Kpi("Lost partners", "network", "count", "lower", "year",
                         "Partners of the year before that are not partners in the year."),
    "portfolio_breadth": Kpi("Portfolio breadth", "network", "count", "higher", "year",
                             "Kinds of partner reached (of the survey's categories)."),
    "partner_diversity": Kpi("Partner diversity (Blau)", "network", "index", "higher", "year",
                             "Blau's index 1 − Σ p² over the partner categories: 0 when all partners "
                             "are of one kind."),
    "country_hhi": Kpi("Country concentration (HHI)", "network", "index", "lower", "year",
                       "Herfindahl index Σ s² of the partners' countries: above 0.25 is highly concentrated."),
    "largest_partner_share": Kpi("Dependence on the largest partner", "network", "share", "lower", "year",
                                 "The largest partner's share of the joint work (shared projects, weighted)."),
    "brokerage_percentile": Kpi("Brokerage percentile", "network", "percentile", "higher", "year",
                                "Share of the organisations with partners that year that are more "
                                "constrained (Burt): high means a broker between groups."),
}
NETWORK_COLUMNS = {"partners": "partners", "new_partners": "new_partners", "lost_partners": "lost_partners",
                   "portfolio_breadth": "breadth", "partner_diversity": "diversity", "country_hhi": "country_hhi",
                   "largest_partner_share": "largest_partner_share", "brokerage_percentile": "less_constrained_than"}
TARGET_RANGES = {"count": (0, 1e6), "share": (0, 1), "days": (0, 3650), "ratio": (-1, 1000),
                 "index": (0, 1), "percentile": (0, 100)}
UNIT_WORDS = {"count": "", "share": "%", "days": "days", "ratio": "×", "index": "", "percentile": "th percentile"}
SELECTED_STAGES = ("selected", "in_progress", "done")
QUARTERS_IN_TREND = 8
YEARS_IN_TREND = 10
# Share of EU-27 enterprises cooperating on innovation with each partner type, Community
# Innovation Survey 2010 (reference period 2008-2010), Eurostat.
SURVEY_SHARES = {
    "suppliers": ("Suppliers", 0.152, ("suppliers",)),
    "customers": ("Customers", 0.126, ("customers",)),
    "universities": ("Universities", 0.108, ("universities",)),
    "consultants": ("Consultants and private labs", 0.097, ("consultants",)),
    "competitors": ("Competitors", 0.067, ("competitors",)),
    "government": ("Government and research institutes", 0.061, ("research_organisations", "public_bodies")),
}
# Which partner-finder search helps to reach each survey type.
FINDER_FOR_TYPE = {
    "suppliers": "preset=diversify_suppliers", "customers": "preset=new_market",
    "universities": "preset=research_partner&kinds=higher_education",
    "consultants": "preset=balanced&kinds=company", "competitors": "preset=balanced&kinds=company",
    "government": "preset=research_partner&kinds=research_organisation&kinds=public_body",
}


# ---------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    label: str   # "2026Q3" or "2026"
    start: date
    end: date    # inclusive

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def is_quarter(self) -> bool:
        return "Q" in self.label


def quarter_of(day: date) -> Period:
    return _period(f"{day.year:04d}Q{(day.month - 1) // 3 + 1}")


def _period(value: str) -> Period:
    """The period a label names ("2026Q3", "2026"); ValueError for anything else."""
    if len(value) == 6 and value[4] == "Q" and value[5] in "1234" and value[:4].isdigit():
        year, last_month = int(value[:4]), 3 * int(value[5])
        return Period(value, date(year, last_month - 2, 1),
                      date(year, last_month, calendar.monthrange(year, last_month)[1]))
    if len(value) == 4 and value.isdigit():
        return Period(value, date(int(value), 1, 1), date(int(value), 12, 31))
    raise ValueError(value)


def parse_period(text: str | None, *, today: date | None = None, field: str = "period") -> Period:
    """A quarter ("2026Q3") or a year ("2026") from FIRST_YEAR to LAST_YEAR; the current
    quarter when none is given."""
    if not text:
        return quarter_of(today or date.today())
    try:
        found = _period(text.strip().upper())
    except ValueError:
        raise InvalidInput.for_field(field, f"{text[:20]!r} is not a period: write a year (2026) or a "
                                            "quarter (2026Q3)") from None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise InvalidInput.for_field(field, f"a period from {FIRST_YEAR} to {LAST_YEAR}")
    return found


def earlier(period: Period, steps: int) -> Period:
    """The period ``steps`` quarters (or years) before this one."""
    if not period.is_quarter:
        return _period(f"{period.year - steps:04d}")
    index = period.year * 4 + (period.start.month - 1) // 3 - steps
    return _period(f"{index // 4:04d}Q{index % 4 + 1}")


def _within(value: date | datetime | None, period: Period) -> bool:
    if value is None:
        return False
    day = value.date() if isinstance(value, datetime) else value
    return period.start <= day <= period.end


# ---------------------------------------------------------------- who may read

def organisation_for(session: Session, viewer: Viewer, *, external_id: str) -> Organisation:
    """The organisation whose KPIs the viewer asks for: its members' only."""
    ensure_signed_in(viewer)
    organisation = organisations.get_organisation(session, external_id=external_id)
    if not (viewer.is_operator or organisation.id in viewer.member_of):
        raise Forbidden(f"The KPIs of {organisation.name} are for its members only.")
    return organisation


def member_viewer(organisation_id: int, today: date) -> Viewer:
    """Reads as a member of the organisation would (for its jobs, reports and aggregates)."""
    return Viewer(today=today, roles={organisation_id: "member"}, channel="job")


def _writable(session: Session, viewer: Viewer, *, external_id: str) -> Organisation:
    ensure_can_write(viewer)
    return organisation_for(session, viewer, external_id=external_id)


# ---------------------------------------------------------------- entered figures

def finance_of(session: Session, viewer: Viewer, *, project_id: int) -> list[FinanceOut]:
    """The viewer's own parties' costs and revenues of a joint project (each party sees only its own)."""
    project = projects.get_project(session, viewer, project_id=project_id, log=False)
    mine = [o for o in projects.party_ids(session, project_id=project.id) if o in viewer.member_of]
    rows = {f.organisation_id: f for f in session.scalars(select(ProjectFinance).where(
        ProjectFinance.project_id == project.id, ProjectFinance.organisation_id.in_(mine)))}
    names = organisations.organisations_by_id(session, ids=mine)
    return [FinanceOut(organisation=names[o].external_id, organisation_name=names[o].name,
                       **{k: getattr(rows[o], k) if o in rows else None for k in FinanceIn.model_fields})
            for o in mine]


def party_acting(session: Session, viewer: Viewer, *, project_id: int, organisation: str | None,
                 doing: str) -> tuple[JointProject, int]:
    """The joint project and the party the viewer writes for in it: the one named (of the
    viewer's), else the viewer's first."""
    ensure_can_write(viewer)
    project = projects.get_project(session, viewer, project_id=project_id, log=False)
    mine = [o for o in projects.party_ids(session, project_id=project.id) if o in viewer.member_of]
    if organisation:
        party = organisations.get_organisation(session, external_id=organisation).id
        if party not in mine:
            raise InvalidInput.for_field("organisation", "you are not a member of that party to this project")
        return project, party
    if not mine:
        raise Forbidden(f"Only a party's members {doing}.")
    return project, mine[0]


def set_finance(session: Session, viewer: Viewer, *, project_id: int, data: FinanceIn,
                organisation: str | None = None) -> None:
    """Enter one party's own costs and revenues of a joint project (its members only)."""
    project, party = party_acting(session, viewer, project_id=project_id, organisation=organisation,
                                  doing="enter its costs and revenues")
    values = data.model_dump()
    insert_once(session, ProjectFinance(project_id=project.id, organisation_id=party))
    row = session.scalar(select(ProjectFinance).where(ProjectFinance.project_id == project.id,
                                                      ProjectFinance.organisation_id == party))
    assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by_id = viewer.user_id
    session.flush()


def sales_of(session: Session, viewer: Viewer, *, external_id: str) -> list[InnovativeSales]:
    organisation = organisation_for(session, viewer, external_id=external_id)
    return list(session.scalars(select(InnovativeSales).where(InnovativeSales.organisation_id == organisation.id)
                                .order_by(InnovativeSales.year.desc())))


def set_sales(session: Session, viewer: Viewer, *, external_id: str, data: SalesIn) -> InnovativeSales:
    """Enter (or correct) one year's turnover and sales of new products."""
    organisation = _writable(session, viewer, external_id=external_id)
    if data.year > viewer.today.year:
        raise InvalidInput.for_field("year", f"{data.year} has not begun yet")
    insert_once(session, InnovativeSales(organisation_id=organisation.id, year=data.year, turnover=data.turnover,
                                         new_to_market=data.new_to_market, new_to_firm=data.new_to_firm))
    row = session.scalar(select(InnovativeSales).where(InnovativeSales.organisation_id == organisation.id,
                                                       InnovativeSales.year == data.year))
    assert row is not None
    row.turnover, row.new_to_market, row.new_to_firm = data.turnover, data.new_to_market, data.new_to_firm
    row.updated_by_id, row.updated_at = viewer.user_id, utcnow()
    session.flush()
    return row


def delete_sales(session: Session, viewer: Viewer, *, external_id: str, year: int) -> None:
    """Remove one year's entered sales (done already when there are none)."""
    organisation = _writable(session, viewer, external_id=external_id)
    session.execute(delete(InnovativeSales).where(InnovativeSales.organisation_id == organisation.id,
                                                  InnovativeSales.year == year))


def check_target(kpi: str, target: float) -> None:
    if kpi not in CATALOGUE:
        raise NotFound(f"There is no KPI {kpi[:40]!r}; see the catalogue.")
    low, high = TARGET_RANGES[CATALOGUE[kpi].unit]
    if not low <= target <= high:
        raise InvalidInput.for_field("target", f"must be between {low:g} and {high:g} for “{CATALOGUE[kpi].label}”")


def set_target(session: Session, viewer: Viewer, *, external_id: str, kpi: str, data: TargetIn) -> KpiTarget:
    organisation = _writable(session, viewer, external_id=external_id)
    check_target(kpi, data.target)
    insert_once(session, KpiTarget(organisation_id=organisation.id, kpi=kpi, target=data.target))
    row = session.scalar(select(KpiTarget).where(KpiTarget.organisation_id == organisation.id, KpiTarget.kpi == kpi))
    assert row is not None
    row.target, row.updated_at = data.target, utcnow()
    session.flush()
    return row


def delete_target(session: Session, viewer: Viewer, *, external_id: str, kpi: str) -> None:
    organisation = _writable(session, viewer, external_id=external_id)
    session.execute(delete(KpiTarget).where(KpiTarget.organisation_id == organisation.id, KpiTarget.kpi == kpi))


def thresholds_of(session: Session, *, organisation_id: int) -> ThresholdsIn:
    """The organisation's alert thresholds (the defaults until it saves its own)."""
    saved = session.get(AlertSettings, organisation_id)
    if saved is None:
        return ThresholdsIn()
    return ThresholdsIn.model_validate({k: getattr(saved, k) for k in ThresholdsIn.model_fields})


def set_thresholds(session: Session, viewer: Viewer, *, external_id: str, data: ThresholdsIn) -> ThresholdsIn:
    """Change when the daily check raises each alert (the organisation's admins)."""
    organisation = _writable(session, viewer, external_id=external_id)
    if not viewer.admin_of(organisation.id):
        raise Forbidden("Only the organisation's administrators change its alert thresholds.")
    insert_once(session, AlertSettings(organisation_id=organisation.id, **ThresholdsIn().model_dump()))
    saved = session.get(AlertSettings, organisation.id)
    for name, value in data.model_dump().items():
        setattr(saved, name, value)
    session.flush()
    return data


# ---------------------------------------------------------------- the KPIs

@dataclass
class _Records:
    """What one organisation's KPIs are computed from, read once for all periods."""

    submitted: list[datetime]
    received: list[tuple[datetime, bool]]            # (submitted at, reached "selected")
    started_from_ideas: list[tuple[date, float]]     # (project created, days since its idea)
    first_results: list[tuple[date, float]]          # (first result recorded, days since start)
    closed: list[tuple[date, str | None, int]]       # (closed on, outcome, results)
    estimated: list[tuple[date, float, float]]       # (project start, cost, revenue)
    realised: list[tuple[date, float, float]]        # (closed on, cost, revenue)
    sales: dict[int, InnovativeSales]
    network: dict[int, NetworkYear]


def records_of(session: Session, viewer: Viewer, organisation_id: int) -> _Records:
    """What one organisation's KPIs are computed from, as the viewer may read it."""
    ideas = challenges.idea_condition(viewer)
    # Ideas its people wrote (confirmed authors), to its own challenges or to others'.
    authored = select(IdeaAuthor.idea_id).where(IdeaAuthor.organisation_id == organisation_id,
                                                IdeaAuthor.confirmed_at.is_not(None))
    submitted = list(session.scalars(select(Idea.created_at).where(
        Idea.id.in_(authored), Idea.merged_into_id.is_(None), ideas)))
    reached = select(IdeaEvent.idea_id).where(IdeaEvent.to_stage.in_(SELECTED_STAGES))
    received = [(at, bool(selected)) for at, selected in session.execute(
        select(Idea.created_at, or_(Idea.stage.in_(SELECTED_STAGES), Idea.id.in_(reached)))
        .join(Challenge, Challenge.id == Idea.challenge_id)
        .where(Challenge.organisation_id == organisation_id, Idea.merged_into_id.is_(None), ideas))]
    mine = select(ProjectParty.project_id).where(ProjectParty.organisation_id == organisation_id)
    joint = list(session.execute(select(JointProject.id, JointProject.start_date, JointProject.created_at,
                                        JointProject.idea_id, JointProject.closed_on, JointProject.outcome,
                                        JointProject.state)
                                 .where(JointProject.id.in_(mine), projects.project_condition(viewer))))
    project_ids = [p.id for p in joint]
    idea_times = dict(session.execute(select(Idea.id, Idea.created_at).where(
        Idea.id.in_([p.idea_id for p in joint if p.idea_id]))).all())
    results = defaultdict(list)
    for project_id, at in session.execute(select(ProjectResult.project_id, ProjectResult.created_at).where(
            ProjectResult.project_id.in_(project_ids), projects.item_condition(viewer, ProjectResult))):
        results[project_id].append(at)
    finance = {f.project_id: f for f in session.scalars(select(ProjectFinance).where(
        ProjectFinance.organisation_id == organisation_id, ProjectFinance.project_id.in_(project_ids)))}
    records = _Records(submitted, received, [], [], [], [], [], {}, {})
    for p in joint:
        if p.idea_id in idea_times:
            records.started_from_ideas.append((p.created_at.date(), _days(idea_times[p.idea_id], p.created_at)))
        if results[p.id]:
            first = min(results[p.id])
            records.first_results.append((first.date(), max(0.0, (first.date() - p.start_date).days)))
        if p.state == "closed" and p.closed_on:
            records.closed.append((p.closed_on, p.outcome, len(results[p.id])))
        f = finance.get(p.id)
        if f and f.estimated_cost and f.estimated_revenue is not None:
            records.estimated.append((p.start_date, f.estimated_cost, f.estimated_revenue))
        if f and p.state == "closed" and p.closed_on and f.realised_cost and f.realised_revenue is not None:
            records.realised.append((p.closed_on, f.realised_cost, f.realised_revenue))
    records.sales = {s.year: s for s in session.scalars(select(InnovativeSales).where(
        InnovativeSales.organisation_id == organisation_id))}
    records.network = {n.year: n for n in session.scalars(select(NetworkYear).where(
        NetworkYear.organisation_id == organisation_id))}
    return records


def _days(since: datetime, until: datetime) -> float:
    return max(0.0, (until - since).total_seconds() / 86400)


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _median(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def _roi(rows: list[tuple[date, float, float]], period: Period) -> float | None:
    chosen = [(cost, revenue) for day, cost, revenue in rows if _within(day, period)]
    cost = sum(c for c, _ in chosen)
    return (sum(r for _, r in chosen) - cost) / cost if cost else None


def kpi_value(kpi: str, records: _Records, period: Period) -> float | None:
    """One KPI's value for one period; None when the period holds no data for it."""
    spec = CATALOGUE[kpi]
    if spec.group == "network":
        row = records.network.get(period.year)
        value = getattr(row, NETWORK_COLUMNS[kpi]) if row else None
        return float(value) if value is not None else None
    if kpi in ("innovative_sales_share", "new_to_market_share"):
        sales = records.sales.get(period.year)
        if sales is None:
            return None
        new = sales.new_to_market + (sales.new_to_firm if kpi == "innovative_sales_share" else 0)
        return _share(new, sales.turnover)
    if kpi == "ideas_submitted":
        return float(sum(_within(at, period) for at in records.submitted))
    if kpi == "ideas_received":
        return float(sum(_within(at, period) for at, _ in records.received))
    if kpi == "idea_selection_rate":
        chosen = [selected for at, selected in records.received if _within(at, period)]
        return _share(sum(chosen), len(chosen))
    if kpi == "idea_to_project_days":
        return _median([d for day, d in records.started_from_ideas if _within(day, period)])
    if kpi == "project_to_result_days":
        return _median([d for day, d in records.first_results if _within(day, period)])
    closed = [(outcome, results) for day, outcome, results in records.closed if _within(day, period)]
    if kpi == "projects_succeeded_share":
        return _share(sum(o == "succeeded" for o, _ in closed), len(closed))
    if kpi == "results_per_project":
        return _share(sum(r for _, r in closed), len(closed))
    if kpi == "roi_estimated":
        return _roi(records.estimated, period)
    return _roi(records.realised, period)


def _trend_periods(kpi: Kpi, period: Period, records: _Records) -> list[Period]:
    if kpi.per == "year" or not period.is_quarter:
        held = sorted(records.network) if kpi.group == "network" else sorted(records.sales)
        last = period.year
        first = max(min([y for y in held if y <= last], default=last), last - YEARS_IN_TREND + 1)
        if kpi.per == "quarter":
            first = last - 4
        return [parse_period(str(y)) for y in range(first, last + 1)]
    return [earlier(period, steps) for steps in range(QUARTERS_IN_TREND - 1, -1, -1)]


def target_status(kpi: str, value: float | None, target: float | None) -> str | None:
    """'met' or 'not met' against the target (in the KPI's better direction), else None."""
    if value is None or target is None:
        return None
    met = value >= target if CATALOGUE[kpi].better == "higher" else value <= target
    return "met" if met else "not met"


def organisation_kpis(session: Session, viewer: Viewer, *, external_id: str,
                      period: str | None = None) -> KpisOut:
    """Every KPI of the catalogue for one period, with its trend, target and status."""
    return kpis_of(session, viewer, organisation=organisation_for(session, viewer, external_id=external_id),
                   period=period)


def kpis_of(session: Session, viewer: Viewer, *, organisation: Organisation, period: str | None) -> KpisOut:
    """:func:`organisation_kpis` for an organisation the caller has let the viewer read."""
    chosen = parse_period(period, today=viewer.today)
    records = records_of(session, viewer, organisation.id)
    targets = dict(session.execute(select(KpiTarget.kpi, KpiTarget.target).where(
        KpiTarget.organisation_id == organisation.id)).all())
    found = []
    for key, spec in CATALOGUE.items():
        shown = chosen if spec.per == "quarter" else parse_period(str(chosen.year))
        value = kpi_value(key, records, shown)
        found.append(KpiOut(
            kpi=key, label=spec.label, group=spec.group, unit=spec.unit, better=spec.better,
            formula=spec.formula, period=shown.label, value=value,
            target=targets.get(key), status=target_status(key, value, targets.get(key)),
            trend=[TrendPoint(period=p.label, value=kpi_value(key, records, p))
                   for p in _trend_periods(spec, shown, records)]))
    return KpisOut(organisation=organisation.external_id, period=chosen.label, kpis=found,
                   funnel=_funnel(session, viewer, organisation.id, chosen),
                   challenges=ideas_by_challenge(session, viewer, organisation_id=organisation.id, period=chosen),
                   survey=survey_comparison(session, viewer, organisation=organisation, year=chosen.year,
                                            network=records.network),
                   portfolio=portfolio_by_year(records.network, last_year=chosen.year))


def portfolio_by_year(network: dict[int, NetworkYear], *, last_year: int) -> list[PortfolioYear]:
    """The partners by kind and by country in each year held, up to ``last_year`` (the
    last YEARS_IN_TREND), from the public network figures."""
    years = sorted(y for y in network if last_year - YEARS_IN_TREND < y <= last_year)
    return [PortfolioYear(
        year=y, partners=network[y].partners,
        by_category=[CategoryCount(category=c, label=label, partners=network[y].by_category[c])
                     for c, label in PARTNER_CATEGORIES.items() if network[y].by_category.get(c)],
        by_country=[CountryCount(country=c or None, partners=k) for c, k in
                    sorted(network[y].by_country.items(), key=lambda item: (-item[1], item[0]))])
            for y in years]


def _submitted_in(period: Period) -> ColumnElement[bool]:
    return and_(Idea.created_at >= datetime.combine(period.start, time.min, tzinfo=UTC),
                Idea.created_at < datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=UTC))


def ideas_by_challenge(session: Session, viewer: Viewer, *, organisation_id: int,
                       period: Period) -> list[ChallengeIdeas]:
    """The organisation's challenges with the ideas each received in the period (those the
    viewer may read) and how many of them reached "selected" or later."""
    reached = select(IdeaEvent.idea_id).where(IdeaEvent.to_stage.in_(SELECTED_STAGES))
    selected = or_(Idea.stage.in_(SELECTED_STAGES), Idea.id.in_(reached))
    in_period = and_(Idea.challenge_id == Challenge.id, Idea.merged_into_id.is_(None),
                     challenges.idea_condition(viewer), _submitted_in(period))
    rows = session.execute(
        select(Challenge.id, Challenge.title, func.count(Idea.id), func.count(Idea.id).filter(selected))
        .join(Idea, in_period)
        .where(Challenge.organisation_id == organisation_id)
        .group_by(Challenge.id, Challenge.title).order_by(func.count(Idea.id).desc(), Challenge.id))
    return [ChallengeIdeas(challenge=i, title=title, ideas=n, selected=k, selection_rate=_share(k, n))
            for i, title, n, k in rows]


def _funnel(session: Session, viewer: Viewer, organisation_id: int, period: Period) -> list[StageFigures]:
    """The stage-gate funnel of the ideas the organisation's challenges received in the period."""
    ideas = list(session.scalars(select(Idea).join(Challenge, Challenge.id == Idea.challenge_id).where(
        Challenge.organisation_id == organisation_id, Idea.merged_into_id.is_(None),
        challenges.idea_condition(viewer), _submitted_in(period))))
    return challenges.stage_funnel(session, ideas=ideas)


# ---------------------------------------------------------------- the survey comparison

def partner_types(session: Session, viewer: Viewer, *, organisation: Organisation, year: int,
                  network: dict[int, NetworkYear] | None = None) -> dict[str, int]:
    """The organisation's partners in the year by survey category: the public network's
    (by each partner's kind) corrected by the relationships the viewer may read (what the
    partner is to the organisation: a customer, a supplier …)."""
    stored = (network or {}).get(year) if network is not None else session.get(NetworkYear, (organisation.id, year))
    counts = defaultdict(int, stored.by_category if stored else {})
    start, end = date(year, 1, 1), date(year, 12, 31)
    running = and_(or_(Relationship.start_date.is_(None), Relationship.start_date <= end),
                   or_(Relationship.end_date.is_(None), Relationship.end_date >= start))
    kinds: dict[int, list[str]] = defaultdict(list)
    public: set[int] = set()
    for owner, partner, kind, visibility in session.execute(
            select(Relationship.organisation_id, Relationship.partner_id, Relationship.kind, Relationship.visibility)
            .where(or_(Relationship.organisation_id == organisation.id, Relationship.partner_id == organisation.id),
                   running, policy.visible_condition(viewer, Relationship))):
        other = partner if owner == organisation.id else owner
        kinds[other].append(kind if owner == organisation.id else INVERSE_KINDS[kind])
        if visibility == "public":
            public.add(other)
    if not kinds:
        return dict(counts)
    mine, theirs = aliased(Participation), aliased(Participation)
    together = set(session.scalars(
        select(theirs.organisation_id).join(mine, mine.project_id == theirs.project_id)
        .join(Project, Project.id == mine.project_id)
        .where(mine.organisation_id == organisation.id, theirs.organisation_id.in_(list(kinds)),
               Project.start_date <= end, func.coalesce(Project.end_date, Project.start_date) >= start)))
    partner_kinds = dict(session.execute(select(Organisation.id, Organisation.kind).where(
        Organisation.id.in_(list(kinds)))).all())
    for other, recorded in kinds.items():
        if stored and (other in together or other in public):  # counted already, by its kind
            by_kind = CATEGORY_OF_KIND.get(partner_kinds.get(other, "other"), "other")
            counts[by_kind] = max(0, counts[by_kind] - 1)
        counts[partner_category(recorded, partner_kinds.get(other, "other"))] += 1
    return {c: k for c, k in counts.items() if k}


def survey_comparison(session: Session, viewer: Viewer, *, organisation: Organisation, year: int,
                      network: dict[int, NetworkYear] | None = None) -> SurveyOut:
    """The partner portfolio beside the EU-27 survey's shares of cooperating firms by
    partner type, and the types "firms like yours also work with" that it lacks."""
    counts = partner_types(session, viewer, organisation=organisation, year=year, network=network)
    total = sum(counts.values())
    rows = []
    for key, (label, eu_share, categories) in SURVEY_SHARES.items():
        partners = sum(counts.get(c, 0) for c in categories)
        rows.append(SurveyTypeOut(type=key, label=label, eu_share=eu_share, partners=partners,
                                  portfolio_share=_share(partners, total),
                                  finder=f"/orgs/{organisation.external_id}/partners?{FINDER_FOR_TYPE[key]}"))
    missing = sorted((r for r in rows if not r.partners), key=lambda r: -SURVEY_SHARES[r.type][1])
    return SurveyOut(year=year, partners=total, types=rows, also_work_with=missing,
                     source=("Eurostat, Community Innovation Survey 2010 (2008–2010), EU-27: share of "
                             "enterprises cooperating on innovation with each type of partner"))
