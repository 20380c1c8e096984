"""A request for a warm introduction: the asker asks the introducer to introduce it to
the target, with a short note."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_one_of, utcnow

STATUSES = {"pending": "Waiting for an answer", "accepted": "Introduced", "declined": "Not now"}
PENDING = text("status = 'pending'")


class IntroductionRequest(Base):
    __tablename__ = "introduction_request"
    __table_args__ = (
        check_one_of("status", STATUSES),
        CheckConstraint("asker_id <> introducer_id AND asker_id <> target_id "
                        "AND introducer_id <> target_id", name="three_organisations"),
        # One open question at a time for the same introduction, whatever the burst.
        Index("ix_introduction_request_pending", "asker_id", "introducer_id", "target_id",
              unique=True, sqlite_where=PENDING, postgresql_where=PENDING),
        Index("ix_introduction_request_asker_id_at", "asker_id", "created_at"),
        Index("ix_introduction_request_introducer_id", "introducer_id"),
        Index("ix_introduction_request_target_id", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    introducer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(1000))
    # The asker's contact person, and the target's once the introducer gives it.
    asker_contact: Mapped[str] = mapped_column(String(300))
    target_contact: Mapped[str | None] = mapped_column(String(300))
    # What the introducer adds when introducing.
    reply: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
