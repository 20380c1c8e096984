"""Engine, declarative base, sessions and schema migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import CheckConstraint, DateTime, MetaData, Table, TypeDecorator, create_engine, event, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names so that Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time in UTC, to the second (exports stay stable and readable)."""
    return datetime.now(UTC).replace(microsecond=0)


def check_one_of(column: str, values) -> CheckConstraint:
    """A check that ``column`` holds one of ``values`` (named after the column)."""
    return CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=column)


class UtcDateTime(TypeDecorator):
    """A moment in UTC. SQLite forgets the time zone; this gives it back on reading."""

    impl = DateTime(timezone=True)
    cache_ok = True
    python_type = datetime

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let SQLAlchemy, not the driver, begin transactions, so that savepoints work.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("innonet") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (creates it on an empty database)."""
    command.upgrade(alembic_config(engine), "head")


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


def load_models() -> None:
    """Import every domain's models so that ``Base.metadata`` knows all tables."""
    from innonet.accounts import models as _accounts  # noqa: F401
    from innonet.collaborations import models as _collaborations  # noqa: F401
    from innonet.matching import models as _matching  # noqa: F401
    from innonet.network import models as _network  # noqa: F401
    from innonet.organisations import models as _organisations  # noqa: F401
    from innonet.sharing import models as _sharing  # noqa: F401


def upsert_rows(session: Session, table: Table, records: list[dict], *, key: tuple[str, ...],
                defaults=None, timestamps: bool = False) -> tuple[int, int]:
    """Insert new rows and update changed ones, matched on the ``key`` columns.

    Only what is new or changed is written, so importing the same file twice writes
    nothing. A record carries only the columns its source knows; the others are kept.
    ``defaults(record)`` gives values for columns a new row needs but the record lacks.
    Returns (inserted, updated).
    """
    existing = {tuple(row[k] for k in key): row for row in session.execute(select(table)).mappings()}
    now = utcnow()
    inserts, updates = [], []
    for record in records:
        current = existing.get(tuple(record[k] for k in key))
        if current is None:
            row = (defaults(record) if defaults else {}) | record
            inserts.append(row | ({"created_at": now, "updated_at": now} if timestamps else {}))
            continue
        changed = {k: v for k, v in record.items() if current[k] != v}
        if changed:
            updates.append((current["id"], changed | ({"updated_at": now} if timestamps else {})))
    if inserts:
        # One executemany needs the same keys in every row.
        columns = {column for row in inserts for column in row}
        session.execute(table.insert(), [{c: row.get(c) for c in columns} for row in inserts])
    for row_id, changed in updates:  # few in practice, each with its own columns
        session.execute(update(table).where(table.c.id == row_id).values(**changed))
    session.flush()
    return len(inserts), len(updates)
