"""Innovation needs (shareable), organisations' goals, stored rankers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'need',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('partner_kinds', sa.JSON(), nullable=False),
        sa.Column('preferred_countries', sa.JSON(), nullable=False),
        sa.Column('excluded_countries', sa.JSON(), nullable=False),
        sa.Column('sme_only', sa.Boolean(), nullable=False),
        sa.Column('exclude_competitors', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('visibility', sa.String(length=10), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("visibility IN ('private', 'partners', 'network', 'public')",
                           name=op.f('ck_need_visibility')),
        sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'],
                                name=op.f('fk_need_agreement_id_agreement'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_need_organisation_id_organisation'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_need')),
    )
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.create_index('ix_need_organisation_id', ['organisation_id'], unique=False)
    op.create_table(
        'ranker_model',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('history_digest', sa.String(length=64), nullable=False),
        sa.Column('question', sa.String(length=20), nullable=False),
        sa.Column('model', sa.Text(), nullable=False),
        sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ranker_model')),
        sa.UniqueConstraint('history_digest', 'question',
                            name=op.f('uq_ranker_model_history_digest_question')),
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('goals', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('goals')
    op.drop_table('ranker_model')
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.drop_index('ix_need_organisation_id')
    op.drop_table('need')
