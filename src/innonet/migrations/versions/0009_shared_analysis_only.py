"""Only shared analyses (public data and public relationships) are stored: each viewer's
other relationships are added to it when a page asks, so 'public' says nothing any more.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Derived data: analyses stored with a viewer's private relationships must not stay.
    op.execute("DELETE FROM stored_analysis")
    with op.batch_alter_table('stored_analysis') as table:
        table.drop_column('public')


def downgrade() -> None:
    op.execute("DELETE FROM stored_analysis")
    with op.batch_alter_table('stored_analysis') as table:
        table.add_column(sa.Column('public', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('stored_analysis') as table:
        table.alter_column('public', server_default=None)
