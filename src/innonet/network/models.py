"""The network's data version: a new one is recorded in the same transaction as any change
to the graph.

Each change inserts a row: writers never wait for one another on a shared row (one row
updated by every write made all graph writes queue behind the slowest). The version is the
newest row's id together with its random token, so a version seen inside a transaction that
was rolled back can never come back with other data, even where an id is used again.
"""

import secrets
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Index, LargeBinary, String, Text, event, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from innonet.db import Base, UtcDateTime

# Tables that cached analyses and the partner finder read as a whole. Relationships, shares
# and agreements are not among them: what each viewer may see of them is part of the key of
# that viewer's cached analysis, so a private tie renews only the analyses that include it.
NETWORK_TABLES = frozenset({"organisation", "project", "participation"})


class NetworkChange(Base):
    """One row per change to the graph; cached analyses are valid only for
    the newest row they were computed at."""

    __tablename__ = "network_change"
    # Bookkeeping, not data: backups leave it out and a restore records a change.
    __table_args__ = {"info": {"derived": True}}

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


def _record_change(session) -> None:
    # After every change, not once per transaction: an analysis cached between two changes
    # of one transaction must not be taken for the state after the second.
    session.connection().execute(insert(NetworkChange), {"token": secrets.randbits(62)})


@event.listens_for(Session, "after_flush")
def _record_after_flush(session, _context):
    changed = session.new | session.dirty | session.deleted
    if any(getattr(item, "__tablename__", None) in NETWORK_TABLES for item in changed):
        _record_change(session)


@event.listens_for(Session, "do_orm_execute")
def _record_on_bulk_write(state):
    # Importers write with insert()/update()/delete() statements, which skip the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in NETWORK_TABLES:
            _record_change(state.session)



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
