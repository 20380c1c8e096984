"""The network's data version: renewed in the same transaction as any change to the graph.

The version is a random number rather than a counter, so a version seen inside a
transaction that was rolled back can never come back with other data.
"""

import secrets

from sqlalchemy import BigInteger, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from innonet.db import Base

# Tables whose rows shape the collaboration graph or who may see which part of it.
NETWORK_TABLES = frozenset({"organisation", "project", "participation", "relationship",
                            "share", "agreement", "agreement_party"})
_RENEW = text("UPDATE network_version SET version = :version WHERE id = 1")


class NetworkVersion(Base):
    """One row; cached analyses are valid only for the version they were computed at."""

    __tablename__ = "network_version"
    # Bookkeeping, not data: backups leave it out and a restore renews it.
    __table_args__ = {"info": {"derived": True}}

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def _renew(session) -> None:
    session.connection().execute(_RENEW, {"version": secrets.randbits(62)})


@event.listens_for(Session, "after_flush")
def _renew_after_flush(session, _context):
    changed = session.new | session.dirty | session.deleted
    if any(getattr(item, "__tablename__", None) in NETWORK_TABLES for item in changed):
        _renew(session)


@event.listens_for(Session, "do_orm_execute")
def _renew_on_bulk_write(state):
    # Importers write with insert()/update()/delete() statements, which skip the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in NETWORK_TABLES:
            _renew(state.session)
