"""Strategic selective openness: who may see each shareable record, the agreements that
can gate access, and the audit log of who saw or changed what."""

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from innonet.db import Base, UtcDateTime, check_length, check_one_of, utcnow

VISIBILITIES = {
    "private": "Private: only our members",
    "partners": "Partners: the organisations we name",
    "network": "Network: every member of this platform",
    "public": "Public: also visitors who are not signed in",
}
AGREEMENT_KINDS = {
    "nda": "Non-disclosure agreement",
    "ip_agreement": "IP agreement",
    "collaboration_agreement": "Collaboration agreement",
    "licence": "Licence",
}
AGREEMENT_STATUSES = {
    "draft": "Draft",
    "in_force": "In force",
    "expired": "Expired",
    "terminated": "Terminated",
}
AUDIT_ACTIONS = ("read", "create", "update", "delete", "export")
CHANNELS = ("api", "page", "cli")



class Shareable:
    """Mixin for every record an organisation owns and decides who sees.

    A class sets ``share_type`` (its name in the share and audit tables) and
    ``owner_column`` (the column holding the owning organisation's id); a record about a
    second organisation (a relationship's partner) names it in ``counterpart_column``.
    """

    share_type: str
    owner_column: str
    counterpart_column: str | None = None
    if TYPE_CHECKING:  # every shareable table has one; declared by each (a mixin's would map a column)
        id: Mapped[int]

    def shared_notice(self, owner_external_id: str) -> tuple[str, str]:
        """What a newly named organisation is told it now sees, and the link to it."""
        raise NotImplementedError

    visibility: Mapped[str] = mapped_column(String(10), default="private")
    # With visibility "partners": the named organisations see the record only while this
    # agreement is in force and they are party to it.
    @declared_attr
    def agreement_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("agreement.id", ondelete="RESTRICT"))


def visibility_constraint() -> CheckConstraint:
    """The check every shareable table puts in its ``__table_args__``."""
    return check_one_of("visibility", VISIBILITIES)


class Share(Base):
    """One organisation a ``partners`` record is shared with."""

    __tablename__ = "share"
    __table_args__ = (UniqueConstraint("item_type", "item_id", "organisation_id"),
                      Index("ix_share_organisation_id", "organisation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(30))
    item_id: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class Agreement(Base):
    __tablename__ = "agreement"
    __table_args__ = (
        check_one_of("kind", AGREEMENT_KINDS),
        check_one_of("status", AGREEMENT_STATUSES),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="dates"),
        check_length("agreement", "notes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The organisation that recorded the agreement; its admins manage it.
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow,
                                                 onupdate=utcnow)


class AgreementParty(Base):
    __tablename__ = "agreement_party"
    __table_args__ = (UniqueConstraint("agreement_id", "organisation_id"),
                      Index("ix_agreement_party_organisation_id", "organisation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class AgreementDocument(Base):
    """What is known about a signed document; the file itself stays with the parties."""

    __tablename__ = "agreement_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    signed_on: Mapped[date | None] = mapped_column(Date)
    location: Mapped[str | None] = mapped_column(String(500))


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        check_one_of("action", AUDIT_ACTIONS),
        check_one_of("channel", CHANNELS),
        Index("ix_audit_event_owner_id_at", "owner_id", "at"),
    )
    # The names a person reads in the log and its filter.
    ITEM_TYPES = {"relationship": "Relationship", "need": "Need", "agreement": "Agreement",
                  "organisation": "Organisation", "introduction": "Introduction",
                  "challenge": "Challenge", "idea": "Idea", "joint_project": "Joint project",
                  "knowledge_item": "Knowledge item"}

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Who: the account (None for a visitor or the command line) and its e-mail at the time.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    # Whose item: the owner's admins read this log.
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    item_type: Mapped[str] = mapped_column(String(30))
    item_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(5))
    path: Mapped[str | None] = mapped_column(String(500))
    # What changed, in words ("status: draft → in force"), where the action alone does not say.
    detail: Mapped[str | None] = mapped_column(String(500))
