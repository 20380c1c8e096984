"""Engine, declarative base, sessions and schema migrations."""

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    MetaData,
    Select,
    Table,
    TypeDecorator,
    create_engine,
    event,
    func,
    inspect,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Result
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.sql import Executable
from sqlalchemy.sql.schema import SchemaItem

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


def check_one_of(column: str, values: Iterable[str], *, optional: bool = False) -> CheckConstraint:
    """A check that ``column`` holds one of ``values`` (or, when ``optional``, nothing);
    named after the column."""
    condition = f"{column} IN ({', '.join(repr(v) for v in values)})"
    return CheckConstraint(f"{column} IS NULL OR {condition}" if optional else condition, name=column)


def check_length(table: str, column: str) -> CheckConstraint:
    """A check that the text in ``column`` is no longer than innonet.text.TEXT_LIMITS says."""
    from innonet.text import TEXT_LIMITS

    return CheckConstraint(f"length({column}) <= {TEXT_LIMITS[f'{table}.{column}']}",
                           name=f"{column}_length")


def trigram_index(table: str, column: str) -> Index:
    """An index that lets PostgreSQL answer ``column ILIKE '%text%'`` without reading the
    whole table (pg_trgm, made by migration 0010). SQLite has none: its LIKE reads every row
    quickly enough for the directory's sizes."""
    index = Index(f"ix_{table}_{column}_trigram", column, postgresql_using="gin",
                  postgresql_ops={column: "gin_trgm_ops"}, info={"dialect": "postgresql"})
    return index.ddl_if(dialect="postgresql")


# What migration 0017 makes for the knowledge base's full-text search and no model maps
# (innonet.knowledge.search reads it): SQLite's FTS5 table and its shadow tables, and
# PostgreSQL's generated tsvector column and its index.
FULL_TEXT_OBJECTS = frozenset({
    "knowledge_fts", "knowledge_fts_data", "knowledge_fts_idx", "knowledge_fts_docsize", "knowledge_fts_config",
    "search_vector", "ix_knowledge_item_search_vector"})


def in_schema_of(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for comparing a database with the models: leaves out
    the indexes that exist only on another database system, and the full-text objects."""
    def include(item: SchemaItem, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        if reflected and compare_to is None and name in FULL_TEXT_OBJECTS:
            return False
        return kind != "index" or (item.info or {}).get("dialect", dialect) == dialect
    return include


@dataclass(frozen=True)
class Page:
    """One page of a list, and how many rows the whole list has. ``capped``: counting
    stopped at ``total``; more rows match."""

    items: list
    total: int
    capped: bool = False

    def pages(self, per_page: int) -> int:
        return max(1, -(-self.total // per_page))


def read_page(session: Session, query: Select, *, page: int, per_page: int,
              count_limit: int | None = None) -> Page:
    """Page ``page`` of ``query``'s rows. With ``count_limit`` the count stops there: a text
    search that matches most of a large table reads that many rows, not all of them."""
    counted: Select = query.with_only_columns(literal_column("1"), maintain_column_froms=True).order_by(None)
    if count_limit is not None:
        counted = counted.limit(count_limit + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    if count_limit is not None and total > count_limit:
        return Page(items, count_limit, capped=True)
    return Page(items, total)


class UtcDateTime(TypeDecorator):
    """A moment in UTC. SQLite forgets the time zone; this gives it back on reading."""

    impl = DateTime(timezone=True)
    cache_ok = True
    python_type = datetime

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# Option on a session's connection: this transaction will write (see ``transaction``).
WRITES = "innonet_writes"
# Connections kept open per process, and as many more opened when needed: a request may
# hold two at once (its own and a short one of its own, e.g. to hand a job to the queue),
# so the web app runs at most POOL_SIZE requests at a time (app.py).
POOL_SIZE = 20
# Under it, SQLite read transactions keep their audit rows until the read has ended.
_DEFERRED = "innonet_deferred_writes"


def make_engine(url: str, *, statement_timeout: float | None = None,
                lock_timeout: float | None = None) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL, and a writer waits up to
    ``statement_timeout`` for the one before it (the normal queue of its single writer);
    PostgreSQL gets the statement and lock timeouts given (in seconds), so that no request
    waits for ever. Statement parameters never appear in errors or logs: they may hold private notes."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(url, hide_parameters=True,
                               **({} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}),
                               connect_args={"check_same_thread": False,
                                             "timeout": statement_timeout or 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
            # Let SQLAlchemy, not the driver, begin transactions, so that savepoints work.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            # A transaction that will write takes the write lock first (waiting its turn):
            # one that read first could not upgrade after another writer committed.
            immediate = connection.get_execution_options().get(WRITES, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    options = [f"-c {name}={int(seconds * 1000)}" for name, seconds in (
        ("statement_timeout", statement_timeout), ("lock_timeout", lock_timeout),
        # A transaction left open by a stuck client frees its locks after this long.
        ("idle_in_transaction_session_timeout", statement_timeout and statement_timeout * 2))
        if seconds]
    # Statements that psycopg prepares are planned for their parameters every time: a
    # generic plan for a text search walks the whole directory in name order when the text
    # is rare (a plan costs well under a millisecond; that walk, tens of them).
    options.append("-c plan_cache_mode=force_custom_plan")
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_size=POOL_SIZE,
                         max_overflow=POOL_SIZE, pool_timeout=30,
                         connect_args={"options": " ".join(options)})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that may write (on SQLite they wait for the write lock first); a read
    opts out with ``transaction(..., writes=False)``."""
    return sessionmaker(bind=engine, expire_on_commit=False, execution_options={WRITES: True})


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


@contextmanager
def transaction(factory: sessionmaker[Session], *, writes: bool = True) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    ``writes=False`` promises a read. On SQLite the read then runs beside the one writer
    instead of waiting for it, and what it must still write (audit rows, see
    :func:`write_after_read`) is written in a short transaction of its own once the read
    has ended, before the caller answers.
    """
    session = factory(execution_options={WRITES: writes})
    session.info[WRITES] = writes
    if not writes and is_sqlite(session):
        session.info[_DEFERRED] = []
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        deferred = session.info.get(_DEFERRED)  # a read from the start, or from read_from_here
        session.close()
    if deferred:
        with transaction(factory) as writer:
            for statement, parameters in deferred:
                writer.execute(statement, parameters)


def read_from_here(session: Session) -> None:
    """Turn a transaction that writes into a read from here on (a refused form shown
    again): its writes are rolled back, and on SQLite it holds no write lock while the rest
    of the request reads, so it may wait for a job like any read (what it must still leave
    behind, audit rows, is written right after it, as for a read)."""
    session.rollback()
    session.info[WRITES] = False
    session.execution_options = session.execution_options.union({WRITES: False})
    if is_sqlite(session):
        session.info.setdefault(_DEFERRED, [])


def end_read(session: Session) -> None:
    """Let a read give its connection back, e.g. before it waits for a background job; it
    takes one again (and sees what was saved meanwhile) when it next reads. A transaction
    that writes keeps its own until it ends."""
    if session.info.get(WRITES) is False:
        session.commit()


def integrity_problem(error: IntegrityError) -> tuple[str, str | None]:
    """What a refused write is about, from either database: the kind of constraint
    ("unique", "check", "not null" or "foreign key") and the column, when it can be told."""
    orig, message = error.orig, str(error.orig)
    said = message.lower().replace("not-null", "not null").replace("duplicate key", "unique")
    kind = next((k for k in ("unique", "check", "not null", "foreign key") if k in said), "unique")
    if (match := re.search(r"constraint failed: \w+\.(\w+)", message)) \
            or (match := re.search(r"Key \(([\w, ]+)\)=", message)) \
            or (match := re.search(r'null value in column "(\w+)"', message)):
        return kind, match.group(1).split(",")[-1].strip()
    name = getattr(getattr(orig, "diag", None), "constraint_name", None) or \
        (message.rsplit(": ", 1)[-1] if "constraint failed" in message else None)
    # Our constraints are named uq_<table>_<column> and ck_<table>_<column>.
    for table in sorted(Base.metadata.tables, key=len, reverse=True):
        for prefix in (f"uq_{table}_", f"ck_{table}_"):
            if name and name.startswith(prefix):
                return kind, name.removeprefix(prefix).removesuffix("_length")
    return kind, None


def describe_error(error: BaseException) -> str:
    """An error in words fit for the log: for a failed statement, the database's first line
    and the statement, never its parameters nor the row the database quotes back (which
    may hold private notes or e-mail addresses)."""
    if isinstance(error, DBAPIError):
        first_line = (str(error.orig).strip().splitlines() or [""])[0]
        return f"{type(error.orig).__name__}: {first_line} [SQL: {error.statement}]"
    return f"{type(error).__name__}: {error}"


def after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run ``action()`` once the session's outermost transaction has committed: a savepoint
    released inside it (``begin_nested``) is not yet a commit, and rolling back what it was
    registered in (a savepoint or the whole transaction) drops it."""
    registered_in = session.get_nested_transaction() or session.get_transaction()
    state = {"done": False}

    def committed(_session: Session) -> None:
        if not state["done"] and _session.get_nested_transaction() is None:  # not a savepoint
            state["done"] = True
            action()

    def dropped(_session: Session, previous: SessionTransaction) -> None:
        if _encloses(previous, registered_in):
            state["done"] = True

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_soft_rollback", dropped)


def after_rollback(session: Session, action: Callable[[], object]) -> None:
    """Run ``action()`` if what is written from here on is rolled back (with the savepoint
    it is written in, or any enclosing one); never once the outermost one has committed."""
    written_in = session.get_nested_transaction() or session.get_transaction()
    state = {"done": False}

    def rolled_back(_session: Session, previous: SessionTransaction) -> None:
        if not state["done"] and _encloses(previous, written_in):
            state["done"] = True
            action()

    def committed(_session: Session) -> None:
        if _session.get_nested_transaction() is None:
            state["done"] = True

    event.listen(session, "after_soft_rollback", rolled_back)
    event.listen(session, "after_commit", committed)


def _encloses(transaction: SessionTransaction, inner: SessionTransaction | None) -> bool:
    """Whether ``transaction`` is ``inner`` or encloses it (rolling it back undoes ``inner``)."""
    while inner is not None:
        if inner is transaction:
            return True
        inner = inner.parent
    return False


def insert_once(session: Session, row: "Base") -> bool:
    """Add a row that a unique constraint allows once; False when it was there already
    (perhaps added a moment ago by a request running at the same time)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return True
    except IntegrityError:
        return False


def serialise(session: Session, *keys: str) -> None:
    """Make concurrent transactions that name one of the same ``keys`` run one after the
    other from here to their end: PostgreSQL takes an advisory lock per key; SQLite already
    lets one write transaction run at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):  # always in the same order: no deadlock
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


def write_after_read(session: Session, statement: Executable, parameters: dict | list[dict] | None = None) -> None:
    """Execute a small insert or update that a read must leave behind (an audit row):
    at once, or, in a SQLite read transaction, right after it (see ``transaction``)."""
    if (deferred := session.info.get(_DEFERRED)) is not None:
        deferred.append((statement, parameters))
    else:
        session.execute(statement, parameters)


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


def rows_changed(result: Result) -> int:
    """How many rows an UPDATE or DELETE statement's ``result`` changed."""
    return cast(CursorResult, result).rowcount


def upsert_rows(session: Session, model: type[Base], records: list[dict], *, key: tuple[str, ...],
                defaults: Callable[[dict], dict] | None = None, timestamps: bool = False) -> tuple[int, int]:
    """Insert new rows and update changed ones, matched on the ``key`` columns.

    Only what is new or changed is written, so importing the same file twice writes
    nothing. A record carries only the columns its source knows; the others are kept.
    ``defaults(record)`` gives values for columns a new row needs but the record lacks.
    Returns (inserted, updated).
    """
    table = cast(Table, model.__table__)
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
    if len(inserts) + len(updates) >= REFRESH_STATISTICS_AFTER:
        refresh_statistics(session, table.name)
    return len(inserts), len(updates)


# Rows a bulk write must change before it refreshes the table's statistics.
REFRESH_STATISTICS_AFTER = 1000


def refresh_statistics(session: Session, table: str) -> None:
    """Make PostgreSQL ready to search what a bulk write changed, in the same transaction,
    rather than when autovacuum comes by: the planner's statistics (the first searches
    would otherwise be planned for the table before, reading every row where an index
    answers at once), and the GIN indexes' pending lists (entries added in bulk wait there,
    and every search reads them one by one)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text(f'ANALYZE "{table}"'))
    session.execute(text(
        "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
        " WHERE i.indrelid = CAST(:table AS regclass) AND a.amname = 'gin'"), {"table": table})
