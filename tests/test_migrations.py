from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from innonet.db import Base
from innonet.schema import load_models


def test_migrations_create_exactly_the_models_schema(engine):
    load_models()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
