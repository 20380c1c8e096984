import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from innonet.db import Base, in_schema_of, transaction
from innonet.organisations import service as organisations
from innonet.schema import load_models


def test_migrations_create_exactly_the_models_schema(engine):
    load_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": in_schema_of(engine.dialect.name)})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_a_bulk_write_leaves_postgresql_ready_to_search_what_it_wrote(backend, request):
    """An import's first searches are planned on the new rows (the statistics refreshed
    in its transaction) and the trigram indexes hold no pending entries to read one by one.
    It commits, so on a database of its own."""
    if backend != "postgresql":
        pytest.skip("planner statistics and trigram indexes are PostgreSQL's")
    sessions = request.getfixturevalue("fresh_sessions")
    engine = sessions.kw["bind"]
    with transaction(sessions) as session:
        organisations.upsert_organisations(session, records=[
            {"external_id": f"BULK{n}", "name": f"Bulk {n}"} for n in range(1200)])
    with engine.connect() as connection:
        counted = connection.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'organisation'"))
        pending = connection.scalar(text("SELECT gin_clean_pending_list('ix_organisation_name_trigram')"))
    assert counted == 1200
    assert pending == 0  # already merged into the index
