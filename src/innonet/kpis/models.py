"""What the KPIs need that no other record holds: the figures people enter (a project's
costs and revenues, the yearly sales of new products), quarterly partnership check-ins,
targets and alert thresholds, the alerts raised; and, derived, every organisation's
network figures by year (computed by a background job from the public network).

All of it is the organisation's own: only its members read it (docs/kpis.md).
"""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_length, check_one_of, utcnow

ALERT_KINDS = {
    "decay": "Partnership decaying",
    "agreement_expiring": "Agreement expiring",
    "country_concentration": "Partners concentrated in one country",
    "dominant_partner": "One partner holds most of the joint work",
    "low_checkin": "Check-in answered low",
    "broker_lost": "Broker position lost",
}
ALERT_STATES = {"open": "Open", "dismissed": "Dismissed", "cleared": "Cleared"}
CHECKIN_QUESTIONS = {
    "value": "The partnership brings us value",
    "trust": "We trust each other",
    "communication": "We communicate well",
    "fairness": "Effort and benefit are shared fairly",
}


class NetworkYear(Base):
    """One organisation's figures in the public network of one year (analytics.network_years),
    stored by the daily job so that a dashboard reads them instead of computing."""

    __tablename__ = "network_year"
    __table_args__ = ({"info": {"derived": True}},)

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"),
                                                 primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    partners: Mapped[int] = mapped_column(Integer)
    breadth: Mapped[int | None] = mapped_column(Integer)
    diversity: Mapped[float | None] = mapped_column(Float)
    country_hhi: Mapped[float | None] = mapped_column(Float)
    largest_partner_share: Mapped[float | None] = mapped_column(Float)
    constraint: Mapped[float | None] = mapped_column(Float)
    less_constrained_than: Mapped[float | None] = mapped_column(Float)
    new_partners: Mapped[int | None] = mapped_column(Integer)
    lost_partners: Mapped[int | None] = mapped_column(Integer)
    by_category: Mapped[dict] = mapped_column(JSON)  # category -> partners
    by_country: Mapped[dict] = mapped_column(JSON)   # country code ("" when unknown) -> partners
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProjectFinance(Base):
    """One party's own costs and revenues of a joint project: estimated at the start,
    realised at the close. Each party enters and reads only its own."""

    __tablename__ = "project_finance"
    __table_args__ = (
        UniqueConstraint("project_id", "organisation_id"),
        *(CheckConstraint(f"{c} IS NULL OR {c} >= 0", name=f"{c}_not_negative") for c in (
            "estimated_cost", "estimated_revenue", "realised_cost", "realised_revenue")),
        Index("ix_project_finance_organisation_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    estimated_cost: Mapped[float | None] = mapped_column(Float)
    estimated_revenue: Mapped[float | None] = mapped_column(Float)
    realised_cost: Mapped[float | None] = mapped_column(Float)
    realised_revenue: Mapped[float | None] = mapped_column(Float)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class InnovativeSales(Base):
    """One year's turnover and the part of it from products new to the market and from
    products new to the firm only (the Community Innovation Survey's two shares)."""

    __tablename__ = "innovative_sales"
    __table_args__ = (
        UniqueConstraint("organisation_id", "year"),
        CheckConstraint("turnover > 0 AND new_to_market >= 0 AND new_to_firm >= 0 "
                        "AND new_to_market + new_to_firm <= turnover", name="shares"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    turnover: Mapped[float] = mapped_column(Float)
    new_to_market: Mapped[float] = mapped_column(Float)
    new_to_firm: Mapped[float] = mapped_column(Float)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class KpiTarget(Base):
    """The value an organisation aims for on one KPI (kpis.catalogue)."""

    __tablename__ = "kpi_target"
    __table_args__ = (UniqueConstraint("organisation_id", "kpi"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kpi: Mapped[str] = mapped_column(String(40))
    target: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AlertSettings(Base):
    """When the daily check raises each alert for one organisation (defaults in
    kpis.alerts.DEFAULT_THRESHOLDS while none are saved)."""

    __tablename__ = "alert_settings"
    __table_args__ = (
        CheckConstraint("decay_months BETWEEN 1 AND 36", name="decay_months"),
        CheckConstraint("agreement_days BETWEEN 1 AND 365", name="agreement_days"),
        CheckConstraint("country_hhi > 0 AND country_hhi <= 1", name="country_hhi"),
        CheckConstraint("largest_partner_share > 0 AND largest_partner_share <= 1",
                        name="largest_partner_share"),
        CheckConstraint("checkin_below > 1 AND checkin_below <= 5", name="checkin_below"),
    )

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"),
                                                 primary_key=True)
    decay_months: Mapped[int] = mapped_column(Integer)
    agreement_days: Mapped[int] = mapped_column(Integer)
    country_hhi: Mapped[float] = mapped_column(Float)
    largest_partner_share: Mapped[float] = mapped_column(Float)
    checkin_below: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CheckIn(Base):
    """One side's quarterly rating of a partnership (with a partner organisation) or of a
    joint project; the other side's answer is shown to it only once it has answered too."""

    __tablename__ = "check_in"
    __table_args__ = (
        CheckConstraint("(partner_id IS NULL) <> (project_id IS NULL)", name="one_subject"),
        # One answer per side and quarter (NULLs never clash, so each holds for its subject).
        UniqueConstraint("organisation_id", "partner_id", "quarter"),
        UniqueConstraint("organisation_id", "project_id", "quarter"),
        *(CheckConstraint(f"{q} BETWEEN 1 AND 5", name=q) for q in CHECKIN_QUESTIONS),
        check_length("check_in", "comment"),
        Index("ix_check_in_partner_id", "partner_id"),
        Index("ix_check_in_project_id", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(6))  # "2026Q3"
    value: Mapped[int] = mapped_column(Integer)
    trust: Mapped[int] = mapped_column(Integer)
    communication: Mapped[int] = mapped_column(Integer)
    fairness: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(2000))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Alert(Base):
    """Something the daily check found about an organisation's network, with its evidence
    and the suggested action; raised once while its cause lasts."""

    __tablename__ = "alert"
    __table_args__ = (
        check_one_of("kind", ALERT_KINDS),
        check_one_of("state", ALERT_STATES),
        UniqueConstraint("organisation_id", "kind", "subject", "raised_on"),
        Index("ix_alert_organisation_id_state", "organisation_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    # What it is about, e.g. "partner:12", "project:3", "agreement:7" or "network".
    subject: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    evidence: Mapped[str] = mapped_column(String(1000))
    action_label: Mapped[str] = mapped_column(String(200))
    action_link: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(10), default="open")
    raised_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
