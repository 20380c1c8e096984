"""Projects, participations and direct relationships: the links of the network."""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_length, check_one_of, trigram_index, utcnow
from innonet.sharing.models import Shareable, visibility_constraint

PARTICIPATION_ROLES = {
    "coordinator": "Coordinator",
    "participant": "Participant",
    "partner": "Partner",
    "third_party": "Third party",
    "associated_partner": "Associated partner",
    "international_partner": "International partner",
}

# What the partner is to the organisation that records the relationship.
RELATIONSHIP_KINDS = {
    "customer": "Customer",
    "supplier": "Supplier",
    "competitor": "Competitor",
    "research_partner": "Research partner",
    "consultant": "Consultant",
    "distributor": "Distributor",
    "licensing": "Licensing",
    "joint_venture": "Joint venture",
    "investor": "Investor",
    "public_funder": "Public funder",
    "other": "Other",
}
# What the organisation is to its partner, given what the partner is to the organisation.
INVERSE_KINDS = {
    "customer": "supplier",
    "supplier": "customer",
    "distributor": "supplier",
    "consultant": "customer",
    "competitor": "competitor",
    "research_partner": "research_partner",
    "licensing": "licensing",
    "joint_venture": "joint_venture",
    "investor": "other",
    "public_funder": "other",
    "other": "other",
}
# Which way value (goods, money, knowledge) flows between the organisation and its partner.
DIRECTIONS = {
    "mutual": "Both ways",
    "to_partner": "From us to the partner",
    "from_partner": "From the partner to us",
}
SOURCES = ("manual", "import")

# What the project list's text search looks in.
SEARCHED_PROJECT_COLUMNS = ("acronym", "title", "external_id", "topic")


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (
        check_length("project", "title"), check_length("project", "description"),
        *(trigram_index("project", column) for column in SEARCHED_PROJECT_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The grant number where known (CORDIS projectID), else "rcn:<record number>".
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    rcn: Mapped[int | None] = mapped_column(Integer, unique=True)
    acronym: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    programme: Mapped[str | None] = mapped_column(String(50))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    budget: Mapped[float | None] = mapped_column(Float)
    eu_contribution: Mapped[float | None] = mapped_column(Float)


class Participation(Base):
    __tablename__ = "participation"
    __table_args__ = (
        UniqueConstraint("project_id", "organisation_id"),
        check_one_of("role", PARTICIPATION_ROLES),
        Index("ix_participation_organisation_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(30), default="participant")
    contribution: Mapped[float | None] = mapped_column(Float)


class Relationship(Shareable, Base):
    """A tie one organisation records with a partner; the recording organisation owns it."""

    __tablename__ = "relationship"
    share_type = "relationship"
    owner_column = "organisation_id"
    counterpart_column = "partner_id"

    def shared_notice(self, owner_external_id: str) -> tuple[str, str]:
        return "a relationship", f"/orgs/{owner_external_id}#relationships"
    __table_args__ = (
        visibility_constraint(),
        UniqueConstraint("organisation_id", "partner_id", "kind"),
        CheckConstraint("organisation_id <> partner_id", name="not_self"),
        check_one_of("kind", RELATIONSHIP_KINDS),
        check_length("relationship", "notes"),
        check_one_of("direction", DIRECTIONS),
        check_one_of("source", SOURCES),
        CheckConstraint("strength BETWEEN 1 AND 5", name="strength"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="dates"),
        Index("ix_relationship_partner_id", "partner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    direction: Mapped[str] = mapped_column(String(20), default="mutual")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    strength: Mapped[int] = mapped_column(Integer, default=3)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="manual")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow
    )
