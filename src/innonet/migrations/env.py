"""Alembic environment: runs on the engine innonet hands over, or on the configured URL."""

from alembic import context

from innonet.config import get_settings
from innonet.db import Base, in_schema_of, make_engine
from innonet.schema import load_models

load_models()
target_metadata = Base.metadata

engine = context.config.attributes.get("engine") or make_engine(get_settings().database_url)
with engine.begin() as connection:
    # render_as_batch lets ALTER TABLE work on SQLite by copying the table.
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True,
        include_object=in_schema_of(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()
