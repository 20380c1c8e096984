"""Text search in the directory and the project list reads an index, not the whole table:
trigram indexes on PostgreSQL (the pg_trgm extension) and the directory's name order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 20:00:00
"""

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SEARCHED = {
    "organisation": ("name", "short_name", "external_id", "city", "vat"),
    "project": ("acronym", "title", "external_id", "topic"),
}


def upgrade() -> None:
    op.create_index("ix_organisation_name_id", "organisation", ["name", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in SEARCHED.items():
        for column in columns:
            op.create_index(f"ix_{table}_{column}_trigram", table, [column], postgresql_using="gin",
                            postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in SEARCHED.items():
            for column in columns:
                op.drop_index(f"ix_{table}_{column}_trigram", table_name=table)
    op.drop_index("ix_organisation_name_id", table_name="organisation")
