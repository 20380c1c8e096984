"""Length limits on every free-text column, checked by the database.

PostgreSQL gets CHECK constraints. SQLite cannot add a constraint to an existing table
without copying it (and the tables that refer to it), so it gets triggers that refuse the
same rows with the same constraint name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:30:00
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# A copy, not an import: a migration must keep meaning what it meant when it was written.
LIMITS = {
    ("organisation", "description"): 10_000,
    ("organisation", "capabilities"): 5_000,
    ("organisation", "needs"): 5_000,
    ("organisation", "sectors"): 1_000,
    ("organisation", "goals"): 2_000,
    ("organisation", "values_statement"): 2_000,
    ("project", "title"): 20_000,
    ("project", "description"): 20_000,
    ("relationship", "notes"): 5_000,
    ("need", "description"): 5_000,
    ("agreement", "notes"): 5_000,
}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for (table, column), limit in LIMITS.items():
        name = f"ck_{table}_{column}_length"
        # Texts already longer are cut to the limit, keeping their beginning.
        op.execute(f"UPDATE {table} SET {column} = substr({column}, 1, {limit}) "
                   f"WHERE length({column}) > {limit}")
        if not sqlite:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK (length({column}) <= {limit})")
            continue
        for event, when in (("INSERT", "INSERT"), ("UPDATE", f"UPDATE OF {column}")):
            op.execute(f"CREATE TRIGGER {name}_{event.lower()} BEFORE {when} ON {table} "
                       f"WHEN length(NEW.{column}) > {limit} "
                       f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in LIMITS:
        name = f"ck_{table}_{column}_length"
        if sqlite:
            op.execute(f"DROP TRIGGER {name}_insert")
            op.execute(f"DROP TRIGGER {name}_update")
        else:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
