"""Notifications in each organisation's inbox, and when each person last read theirs.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 01:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

KINDS = "'shared', 'introduction_requested', 'introduction_accepted', 'introduction_declined'"


def upgrade() -> None:
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f('ck_notification_kind')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ondelete='CASCADE',
                                name=op.f('fk_notification_organisation_id_organisation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    op.create_index('ix_notification_organisation_id_at', 'notification', ['organisation_id', 'at'])
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('inbox_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('inbox_seen_at')
    op.drop_index('ix_notification_organisation_id_at', table_name='notification')
    op.drop_table('notification')
