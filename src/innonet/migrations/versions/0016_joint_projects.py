"""Joint projects: parties and people, work packages (RACI), milestones and deliverables,
risks, decisions, background IP and results, exit criteria and reviews, the activity log,
each item's narrowed audience, and personal calendar feeds; notifications about projects.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 01:01:56
"""

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

revision = '0016'
OLD_KINDS = ('shared', 'introduction_requested', 'introduction_accepted', 'introduction_declined',
             'challenge_invitation', 'mention', 'comment', 'stage_changed', 'decision', 'co_author', 'evaluation')
NEW_KINDS = OLD_KINDS + ('project', 'exit_review')


def _kinds(kinds: Iterable[str]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_feed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_calendar_feed_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_calendar_feed_token_digest')),
    sa.UniqueConstraint('user_id', name=op.f('uq_calendar_feed_user_id'))
    )
    op.create_table('project_audience',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_type', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_audience_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_audience')),
    sa.UniqueConstraint('item_type', 'item_id', 'organisation_id', name=op.f('uq_project_audience_item_type_item_id_organisation_id'))
    )
    with op.batch_alter_table('project_audience', schema=None) as batch_op:
        batch_op.create_index('ix_project_audience_organisation_id', ['organisation_id'], unique=False)

    op.create_table('joint_project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('origin', sa.String(length=15), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=True),
    sa.Column('challenge_id', sa.Integer(), nullable=True),
    sa.Column('evaluation', sa.JSON(), nullable=True),
    sa.Column('foreground_rule', sa.String(length=12), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('results_summary', sa.Text(), nullable=True),
    sa.Column('lessons', sa.Text(), nullable=True),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("foreground_rule IN ('joint', 'creator', 'assignment')", name=op.f('ck_joint_project_foreground_rule')),
    sa.CheckConstraint("origin IN ('scratch', 'idea', 'recommendation')", name=op.f('ck_joint_project_origin')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('succeeded', 'partly', 'stopped')", name=op.f('ck_joint_project_outcome')),
    sa.CheckConstraint("state IN ('active', 'closed')", name=op.f('ck_joint_project_state')),
    sa.CheckConstraint("visibility IN ('private', 'partners', 'network', 'public')", name=op.f('ck_joint_project_visibility')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_joint_project_dates')),
    sa.CheckConstraint('length(lessons) <= 10000', name=op.f('ck_joint_project_lessons_length')),
    sa.CheckConstraint('length(results_summary) <= 10000', name=op.f('ck_joint_project_results_summary_length')),
    sa.CheckConstraint('length(summary) <= 10000', name=op.f('ck_joint_project_summary_length')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_joint_project_agreement_id_agreement'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['assignee_id'], ['organisation.id'], name=op.f('fk_joint_project_assignee_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_joint_project_challenge_id_challenge'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_joint_project_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_joint_project_idea_id_idea'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_joint_project_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_project'))
    )
    with op.batch_alter_table('joint_project', schema=None) as batch_op:
        batch_op.create_index('ix_joint_project_idea_id', ['idea_id'], unique=False)
        batch_op.create_index('ix_joint_project_organisation_id', ['organisation_id'], unique=False)

    op.create_table('background_ip',
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('terms', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('narrowed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(description) <= 5000', name=op.f('ck_background_ip_description_length')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_background_ip_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_background_ip_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_background_ip_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_ip'))
    )
    with op.batch_alter_table('background_ip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_background_ip_project_id'), ['project_id'], unique=False)

    op.create_table('exit_criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('kpi', sa.String(length=30), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('evidence', sa.String(length=1000), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('milestone_late', 'inactive', 'kpi_below', 'agreement_expiring')", name=op.f('ck_exit_criterion_kind')),
    sa.CheckConstraint("kpi IS NULL OR kpi IN ('milestones_on_time', 'deliverables_done')", name=op.f('ck_exit_criterion_kpi')),
    sa.CheckConstraint("state IN ('unchecked', 'ok', 'met', 'unknown')", name=op.f('ck_exit_criterion_state')),
    sa.CheckConstraint('days IS NULL OR days BETWEEN 0 AND 3650', name=op.f('ck_exit_criterion_days')),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_exit_criterion_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exit_criterion'))
    )
    with op.batch_alter_table('exit_criterion', schema=None) as batch_op:
        batch_op.create_index('ix_exit_criterion_project_id', ['project_id'], unique=False)

    op.create_table('project_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_project_agreement_agreement_id_agreement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_agreement_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_agreement')),
    sa.UniqueConstraint('project_id', 'agreement_id', name=op.f('uq_project_agreement_project_id_agreement_id'))
    )
    with op.batch_alter_table('project_agreement', schema=None) as batch_op:
        batch_op.create_index('ix_project_agreement_agreement_id', ['agreement_id'], unique=False)

    op.create_table('project_decision',
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('narrowed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(rationale) <= 5000', name=op.f('ck_project_decision_rationale_length')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_project_decision_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_decision_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_decision_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_decision'))
    )
    with op.batch_alter_table('project_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_decision_project_id'), ['project_id'], unique=False)

    op.create_table('project_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('item_type', sa.String(length=20), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.CheckConstraint("kind IN ('created', 'party_added', 'party_removed', 'item_added', 'item_changed', 'item_deleted', 'review_raised', 'review_decided', 'closed', 'changed')", name=op.f('ck_project_event_kind')),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_event_project_id_joint_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_project_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_event'))
    )
    with op.batch_alter_table('project_event', schema=None) as batch_op:
        batch_op.create_index('ix_project_event_project_id_at', ['project_id', 'at'], unique=False)

    op.create_table('project_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=15), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'partner', 'subcontractor', 'advisor')", name=op.f('ck_project_party_role')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_party_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_party_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_party')),
    sa.UniqueConstraint('project_id', 'organisation_id', name=op.f('uq_project_party_project_id_organisation_id'))
    )
    with op.batch_alter_table('project_party', schema=None) as batch_op:
        batch_op.create_index('ix_project_party_organisation_id', ['organisation_id'], unique=False)

    op.create_table('project_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_person_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_person_project_id_joint_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_project_person_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_person')),
    sa.UniqueConstraint('project_id', 'user_id', name=op.f('uq_project_person_project_id_user_id'))
    )
    with op.batch_alter_table('project_person', schema=None) as batch_op:
        batch_op.create_index('ix_project_person_user_id', ['user_id'], unique=False)

    op.create_table('project_result',
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('rule', sa.String(length=12), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('narrowed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("rule IN ('joint', 'creator', 'assignment')", name=op.f('ck_project_result_rule')),
    sa.CheckConstraint('length(description) <= 5000', name=op.f('ck_project_result_description_length')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_project_result_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_result_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_result_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_result'))
    )
    with op.batch_alter_table('project_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_result_project_id'), ['project_id'], unique=False)

    op.create_table('project_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence', sa.String(length=2000), nullable=False),
    sa.Column('cause', sa.String(length=500), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("decision IS NULL OR decision IN ('continue', 'change', 'exit')", name=op.f('ck_project_review_decision')),
    sa.CheckConstraint('length(note) <= 2000', name=op.f('ck_project_review_note_length')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_project_review_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_review_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_review'))
    )
    with op.batch_alter_table('project_review', schema=None) as batch_op:
        batch_op.create_index('ix_project_review_project_id', ['project_id'], unique=False)

    op.create_table('project_risk',
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('mitigation', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=6), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('narrowed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_project_risk_status')),
    sa.CheckConstraint('impact BETWEEN 1 AND 5', name=op.f('ck_project_risk_impact')),
    sa.CheckConstraint('length(description) <= 2000', name=op.f('ck_project_risk_description_length')),
    sa.CheckConstraint('length(mitigation) <= 2000', name=op.f('ck_project_risk_mitigation_length')),
    sa.CheckConstraint('likelihood BETWEEN 1 AND 5', name=op.f('ck_project_risk_likelihood')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_project_risk_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_risk_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['organisation.id'], name=op.f('fk_project_risk_owner_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_risk_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_risk'))
    )
    with op.batch_alter_table('project_risk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_risk_project_id'), ['project_id'], unique=False)

    op.create_table('work_package',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('accountable_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('narrowed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_work_package_dates')),
    sa.CheckConstraint('length(description) <= 5000', name=op.f('ck_work_package_description_length')),
    sa.ForeignKeyConstraint(['accountable_id'], ['organisation.id'], name=op.f('fk_work_package_accountable_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_work_package_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_work_package_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_work_package_project_id_joint_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_package'))
    )
    with op.batch_alter_table('work_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_package_project_id'), ['project_id'], unique=False)

    op.create_table('project_milestone',
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('work_package_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('narrowed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('milestone', 'deliverable')", name=op.f('ck_project_milestone_kind')),
    sa.CheckConstraint("status IN ('planned', 'done', 'cancelled')", name=op.f('ck_project_milestone_status')),
    sa.CheckConstraint('length(description) <= 2000', name=op.f('ck_project_milestone_description_length')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_project_milestone_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_milestone_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['organisation.id'], name=op.f('fk_project_milestone_owner_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['user_account.id'], name=op.f('fk_project_milestone_owner_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['joint_project.id'], name=op.f('fk_project_milestone_project_id_joint_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_package_id'], ['work_package.id'], name=op.f('fk_project_milestone_work_package_id_work_package'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_milestone'))
    )
    with op.batch_alter_table('project_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_milestone_project_id'), ['project_id'], unique=False)

    op.create_table('result_owner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_result_owner_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['result_id'], ['project_result.id'], name=op.f('fk_result_owner_result_id_project_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_owner')),
    sa.UniqueConstraint('result_id', 'organisation_id', name=op.f('uq_result_owner_result_id_organisation_id'))
    )
    op.create_table('work_package_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_package_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('raci', sa.String(length=1), nullable=False),
    sa.CheckConstraint("raci IN ('R', 'C', 'I')", name=op.f('ck_work_package_party_raci')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_work_package_party_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_package_id'], ['work_package.id'], name=op.f('fk_work_package_party_work_package_id_work_package'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_package_party')),
    sa.UniqueConstraint('work_package_id', 'organisation_id', 'raci', name=op.f('uq_work_package_party_work_package_id_organisation_id_raci'))
    )

    _notification_kinds(NEW_KINDS)


def _notification_kinds(kinds: Iterable[str]) -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _kinds(kinds))


def downgrade() -> None:
    op.execute(f"DELETE FROM notification WHERE NOT ({_kinds(OLD_KINDS)})")
    _notification_kinds(OLD_KINDS)
    op.drop_table('work_package_party')
    op.drop_table('result_owner')
    with op.batch_alter_table('project_milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_milestone_project_id'))

    op.drop_table('project_milestone')
    with op.batch_alter_table('work_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_package_project_id'))

    op.drop_table('work_package')
    with op.batch_alter_table('project_risk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_risk_project_id'))

    op.drop_table('project_risk')
    with op.batch_alter_table('project_review', schema=None) as batch_op:
        batch_op.drop_index('ix_project_review_project_id')

    op.drop_table('project_review')
    with op.batch_alter_table('project_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_result_project_id'))

    op.drop_table('project_result')
    with op.batch_alter_table('project_person', schema=None) as batch_op:
        batch_op.drop_index('ix_project_person_user_id')

    op.drop_table('project_person')
    with op.batch_alter_table('project_party', schema=None) as batch_op:
        batch_op.drop_index('ix_project_party_organisation_id')

    op.drop_table('project_party')
    with op.batch_alter_table('project_event', schema=None) as batch_op:
        batch_op.drop_index('ix_project_event_project_id_at')

    op.drop_table('project_event')
    with op.batch_alter_table('project_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_decision_project_id'))

    op.drop_table('project_decision')
    with op.batch_alter_table('project_agreement', schema=None) as batch_op:
        batch_op.drop_index('ix_project_agreement_agreement_id')

    op.drop_table('project_agreement')
    with op.batch_alter_table('exit_criterion', schema=None) as batch_op:
        batch_op.drop_index('ix_exit_criterion_project_id')

    op.drop_table('exit_criterion')
    with op.batch_alter_table('background_ip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_background_ip_project_id'))

    op.drop_table('background_ip')
    with op.batch_alter_table('joint_project', schema=None) as batch_op:
        batch_op.drop_index('ix_joint_project_organisation_id')
        batch_op.drop_index('ix_joint_project_idea_id')

    op.drop_table('joint_project')
    with op.batch_alter_table('project_audience', schema=None) as batch_op:
        batch_op.drop_index('ix_project_audience_organisation_id')

    op.drop_table('project_audience')
    op.drop_table('calendar_feed')
