"""The cluster manager's KPIs: the catalogue aggregated over the organisations that consent
to be counted, never a figure that fewer than three of them make (so no member's own figure
can be read off), and the cluster's network over time (docs/methods.md, "Cluster KPIs").
"""

from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from innonet.collaborations.models import Participation, Project
from innonet.errors import Forbidden
from innonet.kpis import service
from innonet.kpis.models import NetworkYear
from innonet.kpis.schemas import ClusterKpiOut, ClusterKpisOut, ClusterTrendPoint, ClusterYearOut
from innonet.organisations.models import Organisation
from innonet.roles import Viewer, ensure_signed_in

# The fewest organisations whose figures one aggregate may be made of.
MIN_CONTRIBUTORS = 3
YEARS_SHOWN = 5


def consenting(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).where(Organisation.cluster_consent_at.is_not(None))
                                .order_by(Organisation.id)))


def contributors(values: list[float]) -> int:
    """The members a figure is made of: those whose value is not zero (a zero adds nothing
    to a sum, so counting it would let three members' figure be one member's own)."""
    return sum(1 for v in values if v != 0)


def _aggregate(unit: str, values: list[float]) -> float | None:
    """Counts add up; shares, ratios, days and indices take the members' median; nothing
    when fewer than MIN_CONTRIBUTORS members have a value other than zero."""
    if contributors(values) < MIN_CONTRIBUTORS:
        return None
    return float(sum(values)) if unit == "count" else float(median(values))


def ensure_cluster_manager(viewer: Viewer) -> None:
    ensure_signed_in(viewer)
    if not (viewer.is_cluster_manager or viewer.is_operator):
        raise Forbidden("Only cluster managers see the cluster's KPIs.")


def cluster_kpis(session: Session, viewer: Viewer, *, period: str | None = None) -> ClusterKpisOut:
    """Every KPI aggregated over the consenting members, with its trend; a figure fewer
    than MIN_CONTRIBUTORS members make is withheld (``contributors`` says how many did)."""
    ensure_cluster_manager(viewer)
    chosen = service.parse_period(period, today=viewer.today)
    members = consenting(session)
    records = [service.records_of(session, service.member_viewer(m.id, viewer.today), m.id) for m in members]
    found: list[ClusterKpiOut] = []
    for key, spec in service.CATALOGUE.items():
        shown = chosen if spec.per == "quarter" else service.parse_period(str(chosen.year))
        steps = service.QUARTERS_IN_TREND if shown.is_quarter else YEARS_SHOWN
        trend: list[ClusterTrendPoint] = []
        for p in [service.earlier(shown, s) for s in range(steps - 1, -1, -1)]:
            values = [v for r in records if (v := service.kpi_value(key, r, p)) is not None]
            trend.append(ClusterTrendPoint(period=p.label, value=_aggregate(spec.unit, values),
                                           contributors=contributors(values),
                                           withheld=bool(values) and contributors(values) < MIN_CONTRIBUTORS))
        found.append(ClusterKpiOut(kpi=key, label=spec.label, group=spec.group, unit=spec.unit,
                                   better=spec.better, formula=spec.formula, period=shown.label,
                                   aggregate="sum" if spec.unit == "count" else "median",
                                   value=trend[-1].value, contributors=trend[-1].contributors,
                                   withheld=trend[-1].withheld, trend=trend))
    return ClusterKpisOut(period=chosen.label, members=len(members), min_contributors=MIN_CONTRIBUTORS,
                          kpis=found, network=_network_over_time(session, members, chosen.year))


def _network_over_time(session: Session, members: list[Organisation], last_year: int) -> list[ClusterYearOut]:
    """Per year: members with partners, their partners in all, and the links among members
    (pairs sharing a public project running that year); nothing with fewer than
    MIN_CONTRIBUTORS members, and a year's figures withheld (None) when fewer than
    MIN_CONTRIBUTORS members had partners that year."""
    if len(members) < MIN_CONTRIBUTORS:
        return []
    ids = [m.id for m in members]
    years = range(last_year - YEARS_SHOWN + 1, last_year + 1)
    stored = session.execute(select(NetworkYear.year, func.count(), func.sum(NetworkYear.partners)).where(
        NetworkYear.organisation_id.in_(ids), NetworkYear.year.in_(list(years)), NetworkYear.partners > 0)
        .group_by(NetworkYear.year)).all()
    by_year = {year: (active, partners) for year, active, partners in stored}
    one, other = aliased(Participation), aliased(Participation)
    rows = session.execute(
        select(one.organisation_id, other.organisation_id, Project.start_date, Project.end_date)
        .join(other, (other.project_id == one.project_id) & (other.organisation_id > one.organisation_id))
        .join(Project, Project.id == one.project_id)
        .where(one.organisation_id.in_(ids), other.organisation_id.in_(ids), Project.start_date.is_not(None))).all()
    spans = [(a, b, start.year, (end or start).year) for a, b, start, end in rows if start is not None]
    links = {year: {(a, b) for a, b, first, last in spans if first <= year <= last} for year in years}
    out = []
    for year in years:
        active, partners = by_year.get(year, (0, 0))
        shown = active >= MIN_CONTRIBUTORS
        out.append(ClusterYearOut(year=year, withheld=not shown, members_with_partners=active if shown else None,
                                  partners=int(partners or 0) if shown else None,
                                  links_among_members=len(links[year]) if shown else None))
    return out
