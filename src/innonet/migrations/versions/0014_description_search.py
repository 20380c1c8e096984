"""The directory searches descriptions too: a trigram index on PostgreSQL.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 02:05:00
"""

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_organisation_description_trigram", "organisation", ["description"],
                        postgresql_using="gin", postgresql_ops={"description": "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_organisation_description_trigram", table_name="organisation")
