"""A background job's state, kept in the database so that every process sees the same."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_one_of, utcnow

STATUSES = ("queued", "running", "done", "failed")
ACTIVE = ("queued", "running")


class Job(Base):
    """One run of slow work: what it is, who started it, how far it got and how it ended.

    ``params`` and ``result`` are JSON. ``dedupe_key`` names work that need not be done twice
    at once: while a job with that key is queued or running, asking again returns it.
    """

    __tablename__ = "job"
    __table_args__ = (
        check_one_of("status", STATUSES),
        Index("ix_job_active_dedupe_key", "dedupe_key", unique=True,
              sqlite_where=text("status IN ('queued', 'running')"),
              postgresql_where=text("status IN ('queued', 'running')")),
        Index("ix_job_status_heartbeat", "status", "heartbeat_at"),
        # Bookkeeping, not data: backups leave it out.
        {"info": {"derived": True}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    params: Mapped[str] = mapped_column(Text, default="{}")
    result: Mapped[str | None] = mapped_column(Text)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
