"""The data version of what every viewer shares (organisations, projects, participations):
a new one is recorded in the same transaction as any change to them. Caches of what is
computed from those tables as a whole (analyses, the partner finder, the directory's
counts) are valid for one version.

Each change inserts a row: writers never wait for one another on a shared row (one row
updated by every write made all graph writes queue behind the slowest). The version is the
newest row's id together with its random token, so a version seen inside a transaction that
was rolled back can never come back with other data, even where an id is used again.
"""

import secrets
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import BigInteger, event, insert, select
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from innonet.db import Base

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


def _record_change(session: Session) -> None:
    # After every change, not once per transaction: an analysis cached between two changes
    # of one transaction must not be taken for the state after the second.
    session.connection().execute(insert(NetworkChange), {"token": secrets.randbits(62)})


@event.listens_for(Session, "after_flush")
def _record_after_flush(session: Session, _context: object) -> None:
    changed = session.new | session.dirty | session.deleted
    if any(getattr(item, "__tablename__", None) in NETWORK_TABLES for item in changed):
        _record_change(session)


@event.listens_for(Session, "do_orm_execute")
def _record_on_bulk_write(state: ORMExecuteState) -> None:
    # Importers write with insert()/update()/delete() statements, which skip the flush.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in NETWORK_TABLES:
            _record_change(state.session)


def data_version(session: Session) -> int:
    """The shared data's version (a new one with every write to NETWORK_TABLES)."""
    newest = session.execute(select(NetworkChange.id, NetworkChange.token)
                             .order_by(NetworkChange.id.desc()).limit(1)).first()
    return hash(tuple(newest)) if newest else 0


T = TypeVar("T")


def per_version(compute: Callable[[Session], T]) -> Callable[[Session], T]:
    """``compute(session)``, read from NETWORK_TABLES alone, made once per database and
    data version in each process (the newest few are kept)."""
    made: dict[tuple[str, int], T] = {}

    def cached(session: Session) -> T:
        key = (str(session.get_bind().engine.url), data_version(session))
        value = made.get(key)
        if value is None:
            value = compute(session)
            if len(made) >= 8:
                made.clear()
            made[key] = value
        return value

    cached.__doc__ = compute.__doc__
    return cached
