"""Warm introduction requests, and the shortlist of a need.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table('introduction_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asker_id', sa.Integer(), nullable=False),
    sa.Column('introducer_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('asker_contact', sa.String(length=300), nullable=False),
    sa.Column('target_contact', sa.String(length=300), nullable=True),
    sa.Column('reply', sa.String(length=1000), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined')", name=op.f('ck_introduction_request_status')),
    sa.CheckConstraint('asker_id <> introducer_id AND asker_id <> target_id AND introducer_id <> target_id', name=op.f('ck_introduction_request_three_organisations')),
    sa.ForeignKeyConstraint(['asker_id'], ['organisation.id'], name=op.f('fk_introduction_request_asker_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_introduction_request_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['introducer_id'], ['organisation.id'], name=op.f('fk_introduction_request_introducer_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_introduction_request_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['organisation.id'], name=op.f('fk_introduction_request_target_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_introduction_request'))
    )
    with op.batch_alter_table('introduction_request') as batch_op:
        batch_op.create_index('ix_introduction_request_asker_id_at', ['asker_id', 'created_at'], unique=False)
        batch_op.create_index('ix_introduction_request_introducer_id', ['introducer_id'], unique=False)
        batch_op.create_index('ix_introduction_request_pending', ['asker_id', 'introducer_id', 'target_id'], unique=True, sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.create_index('ix_introduction_request_target_id', ['target_id'], unique=False)

    op.create_table('shortlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_shortlist_entry_added_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], name=op.f('fk_shortlist_entry_need_id_need'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_shortlist_entry_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_entry')),
    sa.UniqueConstraint('need_id', 'organisation_id', name=op.f('uq_shortlist_entry_need_id_organisation_id'))
    )


def downgrade() -> None:
    op.drop_table('shortlist_entry')
    with op.batch_alter_table('introduction_request') as batch_op:
        batch_op.drop_index('ix_introduction_request_target_id')
        batch_op.drop_index('ix_introduction_request_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index('ix_introduction_request_introducer_id')
        batch_op.drop_index('ix_introduction_request_asker_id_at')

    op.drop_table('introduction_request')
