"""KPIs and partnership health: each organisation's network figures by year (derived),
joint-project costs and revenues, yearly sales of new products, targets, alert thresholds,
quarterly check-ins and alerts; notifications about partnership alerts.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 21:16:40
"""

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

revision = '0018'
OLD_KINDS = ('shared', 'introduction_requested', 'introduction_accepted', 'introduction_declined',
             'challenge_invitation', 'mention', 'comment', 'stage_changed', 'decision', 'co_author', 'evaluation',
             'project', 'exit_review')
NEW_KINDS = OLD_KINDS + ('partnership_alert',)


def _kinds(kinds: Iterable[str]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


def _notification_kinds(kinds: Iterable[str]) -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _kinds(kinds))

down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('evidence', sa.String(length=1000), nullable=False),
    sa.Column('action_label', sa.String(length=200), nullable=False),
    sa.Column('action_link', sa.String(length=1000), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.CheckConstraint("kind IN ('decay', 'agreement_expiring', 'country_concentration', 'dominant_partner', 'low_checkin', 'broker_lost')", name=op.f('ck_alert_kind')),
    sa.CheckConstraint("state IN ('open', 'dismissed', 'cleared')", name=op.f('ck_alert_state')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_alert_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    sa.UniqueConstraint('organisation_id', 'kind', 'subject', 'raised_on', name=op.f('uq_alert_organisation_id_kind_subject_raised_on'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index('ix_alert_organisation_id_state', ['organisation_id', 'state'], unique=False)

    op.create_table('alert_settings',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('decay_months', sa.Integer(), nullable=False),
    sa.Column('agreement_days', sa.Integer(), nullable=False),
    sa.Column('country_hhi', sa.Float(), nullable=False),
    sa.Column('largest_partner_share', sa.Float(), nullable=False),
    sa.Column('checkin_below', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('agreement_days BETWEEN 1 AND 365', name=op.f('ck_alert_settings_agreement_days')),
    sa.CheckConstraint('checkin_below > 1 AND checkin_below <= 5', name=op.f('ck_alert_settings_checkin_below')),
    sa.CheckConstraint('country_hhi > 0 AND country_hhi <= 1', name=op.f('ck_alert_settings_country_hhi')),
    sa.CheckConstraint('decay_months BETWEEN 1 AND 36', name=op.f('ck_alert_settings_decay_months')),
    sa.CheckConstraint('largest_partner_share > 0 AND largest_partner_share <= 1', name=op.f('ck_alert_settings_largest_partner_share')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_alert_settings_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_alert_settings'))
    )
    op.create_table('innovative_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('turnover', sa.Float(), nullable=False),
    sa.Column('new_to_market', sa.Float(), nullable=False),
    sa.Column('new_to_firm', sa.Float(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('turnover > 0 AND new_to_market >= 0 AND new_to_firm >= 0 AND new_to_market + new_to_firm <= turnover', name=op.f('ck_innovative_sales_shares')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_innovative_sales_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_innovative_sales_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_innovative_sales')),
    sa.UniqueConstraint('organisation_id', 'year', name=op.f('uq_innovative_sales_organisation_id_year'))
    )
    op.create_table('kpi_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kpi', sa.String(length=40), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_kpi_target_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_target')),
    sa.UniqueConstraint('organisation_id', 'kpi', name=op.f('uq_kpi_target_organisation_id_kpi'))
    )
    op.create_table('network_year',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('partners', sa.Integer(), nullable=False),
    sa.Column('breadth', sa.Integer(), nullable=True),
    sa.Column('diversity', sa.Float(), nullable=True),
    sa.Column('country_hhi', sa.Float(), nullable=True),
    sa.Column('largest_partner_share', sa.Float(), nullable=True),
    sa.Column('constraint', sa.Float(), nullable=True),
    sa.Column('less_constrained_than', sa.Float(), nullable=True),
    sa.Column('new_partners', sa.Integer(), nullable=True),
    sa.Column('lost_partners', sa.Integer(), nullable=True),
    sa.Column('by_category', sa.JSON(), nullable=False),
    sa.Column('by_country', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_network_year_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'year', name=op.f('pk_network_year')),
    info={'derived': True}
    )
    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('trust', sa.Integer(), nullable=False),
    sa.Column('communication', sa.Integer(), nullable=False),
    sa.Column('fairness', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=2000), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(partner_id IS NULL) <> (project_id IS NULL)', name=op.f('ck_check_in_one_subject')),
    sa.CheckConstraint('communication BETWEEN 1 AND 5', name=op.f('ck_check_in_communication')),
    sa.CheckConstraint('fairness BETWEEN 1 AND 5', name=op.f('ck_check_in_fairness')),
    sa.CheckConstraint('length(comment) <= 2000', name=op.f('ck_check_in_comment_length')),
    sa.CheckConstraint('trust BETWEEN 1 AND 5', name=op.f('ck_check_in_trust')),
    sa.CheckConstraint('value BETWEEN 1 AND 5', name=op.f('ck_check_in_value')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_check_in_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['organisation.id'], name=op.f('fk_check_in_partner_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_check_in_project_id_joint_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_check_in_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in')),
    sa.UniqueConstraint('organisation_id', 'partner_id', 'quarter', name=op.f('uq_check_in_organisation_id_partner_id_quarter')),
    sa.UniqueConstraint('organisation_id', 'project_id', 'quarter', name=op.f('uq_check_in_organisation_id_project_id_quarter'))
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index('ix_check_in_partner_id', ['partner_id'], unique=False)
        batch_op.create_index('ix_check_in_project_id', ['project_id'], unique=False)

    op.create_table('project_finance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('estimated_cost', sa.Float(), nullable=True),
    sa.Column('estimated_revenue', sa.Float(), nullable=True),
    sa.Column('realised_cost', sa.Float(), nullable=True),
    sa.Column('realised_revenue', sa.Float(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('estimated_cost IS NULL OR estimated_cost >= 0', name=op.f('ck_project_finance_estimated_cost_not_negative')),
    sa.CheckConstraint('estimated_revenue IS NULL OR estimated_revenue >= 0', name=op.f('ck_project_finance_estimated_revenue_not_negative')),
    sa.CheckConstraint('realised_cost IS NULL OR realised_cost >= 0', name=op.f('ck_project_finance_realised_cost_not_negative')),
    sa.CheckConstraint('realised_revenue IS NULL OR realised_revenue >= 0', name=op.f('ck_project_finance_realised_revenue_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_finance_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_finance_project_id_joint_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_project_finance_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_finance')),
    sa.UniqueConstraint('project_id', 'organisation_id', name=op.f('uq_project_finance_project_id_organisation_id'))
    )
    with op.batch_alter_table('project_finance', schema=None) as batch_op:
        batch_op.create_index('ix_project_finance_organisation_id', ['organisation_id'], unique=False)

    _notification_kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute(f"DELETE FROM notification WHERE NOT ({_kinds(OLD_KINDS)})")
    _notification_kinds(OLD_KINDS)
    with op.batch_alter_table('project_finance', schema=None) as batch_op:
        batch_op.drop_index('ix_project_finance_organisation_id')

    op.drop_table('project_finance')
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index('ix_check_in_project_id')
        batch_op.drop_index('ix_check_in_partner_id')

    op.drop_table('check_in')
    op.drop_table('network_year')
    op.drop_table('kpi_target')
    op.drop_table('innovative_sales')
    op.drop_table('alert_settings')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_organisation_id_state')

    op.drop_table('alert')
