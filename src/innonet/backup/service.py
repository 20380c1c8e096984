"""A complete, deterministic JSON dump of the database, and its restore into an empty one.

Rows are ordered by id, dates are ISO 8601 and timestamps UTC, so that the same data
always gives the same bytes: export -> restore -> export is identical.
"""

import json
from datetime import UTC, date, datetime
from typing import Any, TextIO

from sqlalchemy import Column, Table, func, select, text
from sqlalchemy.orm import Session

from innonet.db import Base
from innonet.errors import Conflict, InvalidInput
from innonet.schema import load_models

FORMAT = "innonet-export"
VERSION = 1


def _tables() -> list[Table]:
    load_models()
    # Parents before children; derived bookkeeping tables are rebuilt, not backed up.
    return [t for t in Base.metadata.sorted_tables if not t.info.get("derived")]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(column: Column, value: Any) -> Any:
    if value is None:
        return None
    python_type = column.type.python_type
    if python_type is datetime:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is float:
        return float(value)
    return value


def export_database(session: Session, out: TextIO) -> dict[str, int]:
    """Write every table to ``out`` as JSON; returns the number of rows per table."""
    counts, tables = {}, {}
    for table in _tables():
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        tables[table.name] = [{k: _encode(v) for k, v in row.items()} for row in rows]
        counts[table.name] = len(tables[table.name])
    revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    json.dump({"format": FORMAT, "version": VERSION, "schema": revision, "tables": tables},
              out, ensure_ascii=False, indent=1, sort_keys=True)
    out.write("\n")
    return counts


def restore_database(session: Session, source: TextIO) -> dict[str, int]:
    """Load an export into an empty database; refuses a database that holds data."""
    try:
        dump = json.load(source)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"Not an innonet export: line {error.lineno}: {error.msg}.") from None
    if not isinstance(dump, dict) or dump.get("format") != FORMAT:
        raise InvalidInput("Not an innonet export (the 'format' field is missing or wrong).")
    revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    if dump.get("schema") != revision:
        raise InvalidInput(f"The export is of schema {dump.get('schema')!r}; this database is at "
                           f"{revision!r}. Restore it with the innonet version that wrote it.")
    tables = _tables()
    for table in tables:
        if session.scalar(select(func.count()).select_from(table)):
            raise Conflict(f"The database is not empty (table {table.name} has rows); "
                           "restore needs an empty database.")
    counts = {}
    for table in tables:
        rows = dump["tables"].get(table.name, [])
        if rows:
            columns = {c.name: c for c in table.columns}
            session.execute(table.insert(), [
                {name: _decode(columns[name], value) for name, value in row.items()}
                for row in rows])
        counts[table.name] = len(rows)
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:  # ids were given explicitly; new rows must follow them
            if "id" not in table.c:  # keyed by its organisation: no sequence
                continue
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
    session.flush()
    return counts
