"""Stored analyses say whether they were built for a visitor (any viewer may be shown one).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Analyses are derived data: those stored before cannot say, so they are computed anew.
    op.execute("DELETE FROM stored_analysis")
    with op.batch_alter_table('stored_analysis') as table:
        table.add_column(sa.Column('public', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('stored_analysis') as table:
        table.alter_column('public', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('stored_analysis') as table:
        table.drop_column('public')
