from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from innonet.db import Base, in_schema_of
from innonet.schema import load_models


def test_migrations_create_exactly_the_models_schema(engine):
    load_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": in_schema_of(engine.dialect.name)})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
