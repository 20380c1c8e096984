"""Analyses computed by a background job and stored for every server process."""

from datetime import UTC, datetime

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime


class StoredAnalysis(Base):
    """A shared analysis (public data and public relationships) computed by a background
    job, for every server process to load.

    ``key`` names exactly what it was computed from (data version, window, relationships);
    ``relationships`` lists those relationships, so that an older analysis is shown to a
    viewer only while it holds nothing that viewer may not see now (a relationship public
    then may be private now).
    """

    __tablename__ = "stored_analysis"
    __table_args__ = (
        Index("ix_stored_analysis_window", "since", "until", "this_year", "created_at"),
        {"info": {"derived": True}},
    )

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[int | None]
    until: Mapped[int | None]
    this_year: Mapped[int]
    relationships: Mapped[str] = mapped_column(Text)
    # To the microsecond: analyses stored within one second must still be told apart.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=lambda: datetime.now(UTC))
    # Megabytes: read only when a process unpacks the analysis, never to look it up.
    payload: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
