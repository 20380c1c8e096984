"""Organisations: the nodes of every innovation network."""

from datetime import datetime

from sqlalchemy import Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_length, check_one_of, trigram_index, utcnow

# What an organisation is, in plain words, and the CORDIS activity type each comes from.
KINDS = {
    "company": "Company",
    "higher_education": "Higher education",
    "research_organisation": "Research organisation",
    "public_body": "Public body",
    "other": "Other",
}
KIND_FROM_CORDIS = {
    "PRC": "company",
    "HES": "higher_education",
    "REC": "research_organisation",
    "PUB": "public_body",
    "OTH": "other",
}
# What the directory's text search looks in.
# What the directory's text search reads (the words of its projects too, see collaborations).
SEARCHED_COLUMNS = ("name", "short_name", "external_id", "city", "vat", "description")


class Organisation(Base):
    __tablename__ = "organisation"
    __table_args__ = (
        check_one_of("kind", KINDS),
        *(check_length("organisation", c) for c in (
            "description", "capabilities", "needs", "sectors", "goals", "values_statement")),
        Index("ix_organisation_country", "country"),
        Index("ix_organisation_kind", "kind"),
        # The directory lists by name: pages are read in this order without sorting all.
        Index("ix_organisation_name_id", "name", "id"),
        *(trigram_index("organisation", column) for column in SEARCHED_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The identifier used in URLs, files and the API: the PIC for EU data, else generated.
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    pic: Mapped[str | None] = mapped_column(String(20), unique=True)
    vat: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40), default="other")
    is_sme: Mapped[bool | None] = mapped_column(Boolean)
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    capabilities: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[str | None] = mapped_column(Text)
    sectors: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[str | None] = mapped_column(Text)
    values_statement: Mapped[str | None] = mapped_column(Text)
    # Set while the organisation lets the cluster manager count its network in aggregates.
    cluster_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow
    )
