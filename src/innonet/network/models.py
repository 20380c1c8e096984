"""The network's data version: bumped in the same transaction as any change to the graph."""

from sqlalchemy import Integer, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from innonet.db import Base

# Tables whose rows shape the collaboration graph or who may see which part of it.
NETWORK_TABLES = frozenset({"organisation", "project", "participation", "relationship",
                            "share", "agreement", "agreement_party"})
BUMP = text("UPDATE network_version SET version = version + 1 WHERE id = 1")


class NetworkVersion(Base):
    """One row; cached analyses are valid only for the version they were computed at."""

    __tablename__ = "network_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(Session, "after_flush")
def _bump_after_flush(session, _context):
    changed = session.new | session.dirty | session.deleted
    if any(getattr(item, "__tablename__", None) in NETWORK_TABLES for item in changed):
        session.connection().execute(BUMP)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk_write(state):
    # Importers write with insert()/update()/delete() statements, which skip the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in NETWORK_TABLES:
            state.session.connection().execute(BUMP)
