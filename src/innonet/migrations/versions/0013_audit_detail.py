"""The audit log says what changed (an agreement's status, whom a record is shared with).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 01:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event') as batch:
        batch.add_column(sa.Column('detail', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_event') as batch:
        batch.drop_column('detail')
