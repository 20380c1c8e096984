"""Background jobs and the analyses they store.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        'job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('progress_done', sa.Integer(), nullable=False),
        sa.Column('progress_total', sa.Integer(), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_job_status')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ondelete='CASCADE',
                                name=op.f('fk_job_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='SET NULL',
                                name=op.f('fk_job_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job')),
    )
    op.create_index('ix_job_active_dedupe_key', 'job', ['dedupe_key'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index('ix_job_status_heartbeat', 'job', ['status', 'heartbeat_at'])
    op.create_index(op.f('ix_job_user_id'), 'job', ['user_id'])
    op.create_index(op.f('ix_job_organisation_id'), 'job', ['organisation_id'])
    op.create_table(
        'stored_analysis',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('since', sa.Integer(), nullable=True),
        sa.Column('until', sa.Integer(), nullable=True),
        sa.Column('this_year', sa.Integer(), nullable=False),
        sa.Column('relationships', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_stored_analysis')),
    )
    op.create_index('ix_stored_analysis_window', 'stored_analysis',
                    ['since', 'until', 'this_year', 'created_at'])


def downgrade() -> None:
    op.drop_table('stored_analysis')
    op.drop_table('job')
