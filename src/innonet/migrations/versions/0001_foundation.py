"""organisations projects participations relationships

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('pic', sa.String(length=20), nullable=True),
    sa.Column('vat', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('short_name', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('is_sme', sa.Boolean(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('capabilities', sa.Text(), nullable=True),
    sa.Column('needs', sa.Text(), nullable=True),
    sa.Column('sectors', sa.Text(), nullable=True),
    sa.Column('values_statement', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('company', 'higher_education', 'research_organisation', 'public_body', 'other')", name=op.f('ck_organisation_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('external_id', name=op.f('uq_organisation_external_id')),
    sa.UniqueConstraint('pic', name=op.f('uq_organisation_pic'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_country', ['country'], unique=False)
        batch_op.create_index('ix_organisation_kind', ['kind'], unique=False)

    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('rcn', sa.Integer(), nullable=True),
    sa.Column('acronym', sa.String(length=100), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('topic', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('programme', sa.String(length=50), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('budget', sa.Float(), nullable=True),
    sa.Column('eu_contribution', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('external_id', name=op.f('uq_project_external_id')),
    sa.UniqueConstraint('rcn', name=op.f('uq_project_rcn'))
    )
    op.create_table('participation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('contribution', sa.Float(), nullable=True),
    sa.CheckConstraint("role IN ('coordinator', 'participant', 'partner', 'third_party', 'associated_partner', 'international_partner')", name=op.f('ck_participation_role')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_participation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_participation_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation')),
    sa.UniqueConstraint('project_id', 'organisation_id', name=op.f('uq_participation_project_id_organisation_id'))
    )
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.create_index('ix_participation_organisation_id', ['organisation_id'], unique=False)

    op.create_table('relationship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('direction', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('strength', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('mutual', 'to_partner', 'from_partner')", name=op.f('ck_relationship_direction')),
    sa.CheckConstraint("kind IN ('customer', 'supplier', 'competitor', 'research_partner', 'consultant', 'distributor', 'licensing', 'joint_venture', 'investor', 'public_funder', 'other')", name=op.f('ck_relationship_kind')),
    sa.CheckConstraint("source IN ('manual', 'import')", name=op.f('ck_relationship_source')),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_relationship_dates')),
    sa.CheckConstraint('organisation_id <> partner_id', name=op.f('ck_relationship_not_self')),
    sa.CheckConstraint('strength BETWEEN 1 AND 5', name=op.f('ck_relationship_strength')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_relationship_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['organisation.id'], name=op.f('fk_relationship_partner_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship')),
    sa.UniqueConstraint('organisation_id', 'partner_id', 'kind', name=op.f('uq_relationship_organisation_id_partner_id_kind'))
    )
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.create_index('ix_relationship_partner_id', ['partner_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.drop_index('ix_relationship_partner_id')

    op.drop_table('relationship')
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_organisation_id')

    op.drop_table('participation')
    op.drop_table('project')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_kind')
        batch_op.drop_index('ix_organisation_country')

    op.drop_table('organisation')
