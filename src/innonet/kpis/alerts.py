"""The daily check of every organisation's partnerships and network: an alert with its
evidence and the suggested action for each cause found (a partnership decaying, an
agreement expiring, partners concentrated in one country, one partner holding most of the
joint work, a check-in answered low, a broker position lost), told to the organisation's
administrators in their inbox and digest and to its webhooks.

An alert is raised once while its cause lasts; when the cause is gone it is cleared, and a
later return raises it again. The check reads as the organisation's own members would
(it acts for them), so no alert rests on what they may not read.
"""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from innonet.accounts import service as accounts
from innonet.analytics.diagnosis import BROKER_PERCENTILE
from innonet.collaborations.models import Participation, Project, Relationship
from innonet.db import insert_once, transaction
from innonet.errors import NotFound
from innonet.jobs.service import JobContext, job_kind
from innonet.kpis import health, service
from innonet.kpis.models import Alert, CheckIn, NetworkYear
from innonet.kpis.schemas import PartnershipOut, ThresholdsIn
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.roles import Viewer, ensure_can_write
from innonet.sharing.models import Agreement, AgreementParty
from innonet.sharing.policy import in_force_condition
from innonet.webhooks import service as webhooks

ALERT_JOB = "kpis.alerts"


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    title: str
    evidence: str
    action_label: str
    action_link: str


def _finder(organisation: Organisation, **query: str | list[str]) -> str:
    return f"/orgs/{organisation.external_id}/partners?{urlencode(query, doseq=True)}"


def findings(session: Session, *, organisation: Organisation, today: date) -> list[Finding]:
    """Every cause for an alert the organisation has today."""
    viewer = service.member_viewer(organisation.id, today)
    limits = service.thresholds_of(session, organisation_id=organisation.id)
    found = []
    ties = health.partnership_rows(session, viewer, organisation=organisation)
    for tie in ties:
        recency = next(f for f in tie.factors if f.factor == "recency")
        last = tie.last_activity
        if last is None or (today - last).days > limits.decay_months * health.DAYS_PER_MONTH:
            running = [p for p in tie.projects if p.state == "active"]
            action = (("Review or exit the joint project", f"/joint-projects/{running[0].id}#review") if running
                      else _renewal(session, organisation, tie))
            found.append(Finding("decay", f"partner:{tie.partner}"[:40],
                                 f"Your partnership with {tie.partner_name} is fading",
                                 f"No activity for more than {limits.decay_months} months: {recency.reason}.",
                                 *action))
    found += _expiring_agreements(session, organisation, today, limits.agreement_days)
    found += _network(session, organisation, today, limits)
    found += _low_checkins(session, organisation, today, limits.checkin_below)
    return found


# The partner finder's preset that finds another partner like one recorded as this kind.
PRESET_FOR_KIND = {"supplier": "diversify_suppliers", "research_partner": "research_partner",
                   "customer": "new_market", "distributor": "new_market"}


def _renewal(session: Session, organisation: Organisation, tie: PartnershipOut) -> tuple[str, str]:
    """For a fading relationship: find partners like this one (or, in the partnership's
    page, check in or end it)."""
    kinds = set(session.scalars(select(Relationship.kind).join(Organisation, Organisation.id == Relationship.partner_id)
                                .where(Relationship.organisation_id == organisation.id,
                                       Organisation.external_id == tie.partner)))
    preset = next((PRESET_FOR_KIND[k] for k in sorted(kinds) if k in PRESET_FOR_KIND), "balanced")
    return f"Renew or replace: find partners like {tie.partner_name}", _finder(organisation, preset=preset)


def _expiring_agreements(session: Session, organisation: Organisation, today: date, days: int) -> list[Finding]:
    mine = select(AgreementParty.agreement_id).where(AgreementParty.organisation_id == organisation.id)
    rows = session.scalars(select(Agreement).where(
        (Agreement.owner_id == organisation.id) | Agreement.id.in_(mine), in_force_condition(today),
        Agreement.end_date.is_not(None), Agreement.end_date <= date.fromordinal(today.toordinal() + days)))
    return [Finding("agreement_expiring", f"agreement:{a.id}", f"“{a.title}” ends on {a.end_date}",
                    f"The agreement ends in {(a.end_date - today).days} days (on {a.end_date}); what it "
                    "covers stops being shared then.", "Renew or end the agreement", f"/agreements/{a.id}")
            for a in rows if a.end_date is not None]


def _network(session: Session, organisation: Organisation, today: date, limits: ThresholdsIn) -> list[Finding]:
    """Concentration, dependence and brokerage in the latest year of the network figures."""
    years = {r.year: r for r in session.scalars(select(NetworkYear).where(
        NetworkYear.organisation_id == organisation.id, NetworkYear.year <= today.year))}
    if not years:
        return []
    year = max(years)
    now = years[year]
    found = []
    if now.partners and now.country_hhi is not None and now.country_hhi > limits.country_hhi:
        largest = max(now.by_country, key=lambda c: now.by_country[c])
        share = now.by_country[largest] / now.partners
        found.append(Finding(
            "country_concentration", "network", "Your partners are concentrated in one country",
            f"In {year} your partners' country concentration (HHI) is {now.country_hhi:.2f}, above "
            f"{limits.country_hhi:.2f}: {share:.0%} of them are in {largest or 'an unknown country'}.",
            "Diversify: find partners in other countries",
            _finder(organisation, preset="new_market", excluded_countries=[largest] if largest else [])))
    dependence = now.largest_partner_share
    if now.partners and dependence is not None and dependence > limits.largest_partner_share:
        name = _largest_partner(session, organisation.id, year)
        found.append(Finding(
            "dominant_partner", "network", "One partner holds most of your joint work",
            f"In {year} {name or 'one partner'} holds {now.largest_partner_share:.0%} of your joint work "
            f"(above {limits.largest_partner_share:.0%}).",
            "Diversify: find more partners", _finder(organisation, preset="balanced")))
    before = years.get(year - 1)
    if before and before.less_constrained_than is not None and before.less_constrained_than >= BROKER_PERCENTILE \
            and (now.less_constrained_than or 0) < BROKER_PERCENTILE:
        found.append(Finding(
            "broker_lost", "network", "You are no longer a broker between groups",
            f"Your brokerage percentile fell from {before.less_constrained_than:.0f} in {year - 1} to "
            f"{(now.less_constrained_than or 0):.0f} in {year} (a broker is at {BROKER_PERCENTILE:.0f} or above).",
            "Rebuild bridges: find partners outside your circle", _finder(organisation, preset="new_market")))
    return found


def _largest_partner(session: Session, organisation_id: int, year: int) -> str | None:
    mine, theirs = aliased(Participation), aliased(Participation)
    row = session.execute(
        select(Organisation.name, func.count()).join(theirs, theirs.organisation_id == Organisation.id)
        .join(mine, mine.project_id == theirs.project_id).join(Project, Project.id == mine.project_id)
        .where(mine.organisation_id == organisation_id, theirs.organisation_id != organisation_id,
               func.extract("year", Project.start_date) <= year,
               func.extract("year", func.coalesce(Project.end_date, Project.start_date)) >= year)
        .group_by(Organisation.id, Organisation.name).order_by(func.count().desc()).limit(1)).first()
    return row[0] if row else None


def _low_checkins(session: Session, organisation: Organisation, today: date, below: float) -> list[Finding]:
    """This quarter's answers below the threshold that the organisation may read (its own,
    and the others' once it answered too)."""
    quarter = service.quarter_of(today).label
    answers = list(session.scalars(select(CheckIn).where(CheckIn.quarter == quarter)))
    mine = [a for a in answers if a.organisation_id == organisation.id]
    found = []
    for own in mine:
        subject = ([a for a in answers if a.project_id == own.project_id] if own.project_id else
                   [a for a in answers if {a.organisation_id, a.partner_id} == {own.organisation_id, own.partner_id}])
        low = [a for a in subject if health.average(a) < below]
        if not low:
            continue
        if own.project_id:
            key, link, label = f"project:{own.project_id}", f"/joint-projects/{own.project_id}#review", \
                "Review or exit the joint project"
        else:
            partner_id = int(own.partner_id or 0)
            partner = organisations.organisations_by_id(session, ids=[partner_id])[partner_id]
            key, link, label = f"partner:{partner.external_id}"[:40], \
                f"/orgs/{organisation.external_id}/partnerships/{partner.external_id}", "Talk it through, or exit"
        averages = ", ".join(f"{health.average(a):.1f}" for a in low)
        found.append(Finding("low_checkin", key, f"A check-in for {quarter} was answered low",
                             f"Average answer {averages} of 5 (below {below:g}).", label, link))
    return found


def check_organisation(session: Session, *, organisation: Organisation, today: date) -> int:
    """Raise the organisation's new alerts and clear those whose cause is gone; returns how
    many were raised."""
    current = {(f.kind, f.subject): f for f in findings(session, organisation=organisation, today=today)}
    standing = {(a.kind, a.subject): a for a in session.scalars(select(Alert).where(
        Alert.organisation_id == organisation.id, Alert.state != "cleared"))}
    for key, alert in standing.items():
        if key not in current:
            alert.state, alert.closed_on = "cleared", today
    raised = 0
    admins = accounts.admins_of(session, organisation_ids=[organisation.id])
    for key, f in current.items():
        if key in standing:
            continue
        alert = Alert(organisation_id=organisation.id, kind=f.kind, subject=f.subject, title=f.title[:300],
                      evidence=f.evidence[:1000], action_label=f.action_label[:200],
                      action_link=f.action_link[:1000], raised_on=today)
        if not insert_once(session, alert):
            continue
        raised += 1
        accounts.notify_people(session, user_ids=admins, kind="partnership_alert",
                               message=f"{f.title}. {f.evidence} Suggested: {f.action_label}.",
                               link=f"/orgs/{organisation.external_id}/kpis#alerts")
        webhooks.emit(session, organisation_id=organisation.id, event="alert.raised", data={
            "kind": f.kind, "title": f.title, "evidence": f.evidence,
            "action": {"label": f.action_label, "link": f.action_link}, "raised_on": today.isoformat()})
    session.flush()
    return raised


def check_all(session: Session, *, today: date) -> dict:
    """Check every organisation that has members to tell."""
    ids = accounts.organisations_with_members(session)
    raised = 0
    for organisation in organisations.organisations_by_id(session, ids=ids).values():
        raised += check_organisation(session, organisation=organisation, today=today)
    return {"organisations_checked": len(ids), "alerts_raised": raised}


def open_alerts(session: Session, *, organisation_id: int, include_closed: bool = False) -> list[Alert]:
    """The organisation's alerts, newest first (open ones only unless ``include_closed``)."""
    query = select(Alert).where(Alert.organisation_id == organisation_id)
    if not include_closed:
        query = query.where(Alert.state == "open")
    return list(session.scalars(query.order_by(Alert.raised_on.desc(), Alert.id.desc()).limit(200)))


def alerts_of(session: Session, viewer: Viewer, *, external_id: str, include_closed: bool = False) -> list[Alert]:
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    return open_alerts(session, organisation_id=organisation.id, include_closed=include_closed)


def dismiss(session: Session, viewer: Viewer, *, external_id: str, alert_id: int) -> Alert:
    """Set an alert aside: it is not raised again until its cause has gone and come back."""
    ensure_can_write(viewer)
    organisation = service.organisation_for(session, viewer, external_id=external_id)
    alert = session.scalar(select(Alert).where(Alert.id == alert_id, Alert.organisation_id == organisation.id))
    if alert is None:
        raise NotFound(f"No alert {alert_id} for {organisation.name}.")
    if alert.state == "open":
        alert.state = "dismissed"
    session.flush()
    return alert


@job_kind(ALERT_JOB, title="Check every organisation's partnerships and network for alerts", daily=True)
def _daily_alerts(context: JobContext) -> dict:
    with transaction(context.sessions) as session:
        return check_all(session, today=date.today())

