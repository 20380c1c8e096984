"""Challenges and ideas: criteria, terms accepted, invitations, authors, comments, votes,
ratings, followers, each idea's history, gatekeepers, evaluators and their assignments; webhooks and their
deliveries; notifications to one person and each person's daily digest.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:48:43
"""

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

revision = '0015'
OLD_KINDS = ('shared', 'introduction_requested', 'introduction_accepted', 'introduction_declined')
NEW_KINDS = OLD_KINDS + ('challenge_invitation', 'mention', 'comment', 'stage_changed', 'decision',
                         'co_author', 'evaluation')


def _kinds(kinds: Iterable[str]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"

down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('challenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('sought', sa.Text(), nullable=True),
    sa.Column('offered', sa.Text(), nullable=True),
    sa.Column('cover_text', sa.Text(), nullable=True),
    sa.Column('tags', sa.String(length=600), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('open_call', sa.Boolean(), nullable=False),
    sa.Column('submissions', sa.String(length=12), nullable=False),
    sa.Column('ip_terms', sa.String(length=20), nullable=False),
    sa.Column('terms_text', sa.Text(), nullable=True),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.Column('workflow', sa.JSON(), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("ip_terms IN ('submitter_keeps', 'licence', 'assignment')", name=op.f('ck_challenge_ip_terms')),
    sa.CheckConstraint("state IN ('draft', 'open', 'closed', 'decided')", name=op.f('ck_challenge_state')),
    sa.CheckConstraint("submissions IN ('shared', 'confidential')", name=op.f('ck_challenge_submissions')),
    sa.CheckConstraint("visibility IN ('private', 'partners', 'network', 'public')", name=op.f('ck_challenge_visibility')),
    sa.CheckConstraint('closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on', name=op.f('ck_challenge_dates')),
    sa.CheckConstraint('length(cover_text) <= 2000', name=op.f('ck_challenge_cover_text_length')),
    sa.CheckConstraint('length(offered) <= 5000', name=op.f('ck_challenge_offered_length')),
    sa.CheckConstraint('length(problem) <= 10000', name=op.f('ck_challenge_problem_length')),
    sa.CheckConstraint('length(sought) <= 5000', name=op.f('ck_challenge_sought_length')),
    sa.CheckConstraint('length(terms_text) <= 5000', name=op.f('ck_challenge_terms_text_length')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_challenge_agreement_id_agreement'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_challenge_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_challenge_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge'))
    )
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.create_index('ix_challenge_organisation_id', ['organisation_id'], unique=False)

    op.create_table('challenge_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_challenge_invitation_challenge_id_challenge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user_account.id'], name=op.f('fk_challenge_invitation_invited_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_challenge_invitation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_invitation')),
    sa.UniqueConstraint('challenge_id', 'organisation_id', name=op.f('uq_challenge_invitation_challenge_id_organisation_id'))
    )
    with op.batch_alter_table('challenge_invitation', schema=None) as batch_op:
        batch_op.create_index('ix_challenge_invitation_organisation_id', ['organisation_id'], unique=False)

    op.create_table('criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=30), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('scale', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('scale BETWEEN 2 AND 10', name=op.f('ck_criterion_scale')),
    sa.CheckConstraint('weight > 0', name=op.f('ck_criterion_weight')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_criterion_challenge_id_challenge'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion'))
    )
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.create_index('ix_criterion_challenge_id', ['challenge_id'], unique=False)

    op.create_table('idea',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=600), nullable=False),
    sa.Column('stage', sa.String(length=30), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stage_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('meaning', sa.LargeBinary(), nullable=True),
    sa.Column('text_version', sa.BigInteger(), nullable=False),
    sa.Column('supporters', sa.Integer(), server_default='0', nullable=False),
    sa.Column('comments', sa.Integer(), server_default='0', nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("visibility IN ('private', 'partners', 'network', 'public')", name=op.f('ck_idea_visibility')),
    sa.CheckConstraint('length(description) <= 10000', name=op.f('ck_idea_description_length')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_idea_agreement_id_agreement'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_idea_challenge_id_challenge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_idea_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['idea.id'], name=op.f('fk_idea_merged_into_id_idea'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_idea_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idea'))
    )
    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.create_index('ix_idea_challenge_id_created_at', ['challenge_id', 'created_at'], unique=False)
        batch_op.create_index('ix_idea_merged_into_id', ['merged_into_id'], unique=False)
        batch_op.create_index('ix_idea_organisation_id', ['organisation_id'], unique=False)

    op.create_table('terms_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_terms_acceptance_challenge_id_challenge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_terms_acceptance_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_acceptance')),
    sa.UniqueConstraint('challenge_id', 'user_id', 'version', name=op.f('uq_terms_acceptance_challenge_id_user_id_version'))
    )
    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(body) <= 5000', name=op.f('ck_comment_body_length')),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_comment_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['comment.id'], name=op.f('fk_comment_parent_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_comment_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_idea_id_created_at', ['idea_id', 'created_at'], unique=False)

    op.create_table('follow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_follow_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_follow_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow')),
    sa.UniqueConstraint('idea_id', 'user_id', name=op.f('uq_follow_idea_id_user_id'))
    )
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.create_index('ix_follow_user_id', ['user_id'], unique=False)

    op.create_table('idea_author',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_idea_author_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user_account.id'], name=op.f('fk_idea_author_invited_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_idea_author_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idea_author_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idea_author')),
    sa.UniqueConstraint('idea_id', 'user_id', name=op.f('uq_idea_author_idea_id_user_id'))
    )
    with op.batch_alter_table('idea_author', schema=None) as batch_op:
        batch_op.create_index('ix_idea_author_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_index('ix_idea_author_user_id', ['user_id'], unique=False)

    op.create_table('idea_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('from_stage', sa.String(length=30), nullable=True),
    sa.Column('to_stage', sa.String(length=30), nullable=True),
    sa.Column('reason', sa.String(length=2000), nullable=True),
    sa.Column('other_idea_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('submitted', 'stage', 'decision', 'merged_into', 'merged_in', 'edited')", name=op.f('ck_idea_event_kind')),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_idea_event_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_idea_id'], ['idea.id'], name=op.f('fk_idea_event_other_idea_id_idea'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idea_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idea_event'))
    )
    with op.batch_alter_table('idea_event', schema=None) as batch_op:
        batch_op.create_index('ix_idea_event_idea_id_at', ['idea_id', 'at'], unique=False)

    op.create_table('rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('value BETWEEN 1 AND 10', name=op.f('ck_rating_value')),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_rating_criterion_id_criterion'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_rating_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_rating_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating')),
    sa.UniqueConstraint('idea_id', 'criterion_id', 'user_id', name=op.f('uq_rating_idea_id_criterion_id_user_id'))
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index('ix_rating_criterion_id', ['criterion_id'], unique=False)

    op.create_table('vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_vote_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_vote_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote')),
    sa.UniqueConstraint('idea_id', 'user_id', name=op.f('uq_vote_idea_id_user_id'))
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index('ix_vote_user_id', ['user_id'], unique=False)

    op.create_table('evaluator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_evaluator_challenge_id_challenge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_evaluator_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluator')),
    sa.UniqueConstraint('challenge_id', 'stage', 'user_id', name=op.f('uq_evaluator_challenge_id_stage_user_id'))
    )
    with op.batch_alter_table('evaluator', schema=None) as batch_op:
        batch_op.create_index('ix_evaluator_user_id', ['user_id'], unique=False)

    op.create_table('gatekeeper',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_gatekeeper_challenge_id_challenge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_gatekeeper_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gatekeeper')),
    sa.UniqueConstraint('challenge_id', 'user_id', name=op.f('uq_gatekeeper_challenge_id_user_id'))
    )
    with op.batch_alter_table('gatekeeper', schema=None) as batch_op:
        batch_op.create_index('ix_gatekeeper_user_id', ['user_id'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_assignment_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_assignment_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment')),
    sa.UniqueConstraint('idea_id', 'stage', 'user_id', name=op.f('uq_assignment_idea_id_stage_user_id'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_user_id', ['user_id'], unique=False)

    op.create_table('webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_webhook_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_webhook_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook'))
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_organisation_id', ['organisation_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f('ck_webhook_delivery_status')),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_webhook_id_created_at', ['webhook_id', 'created_at'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_digest', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('digest_sent_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.alter_column('organisation_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index('ix_notification_user_id_at', ['user_id', 'at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_user_id_user_account'), 'user_account', ['user_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint(batch_op.f('ck_notification_one_addressee'),
                                         '(organisation_id IS NULL) <> (user_id IS NULL)')
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _kinds(NEW_KINDS))



def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('digest_sent_at')
        batch_op.drop_column('daily_digest')

    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_webhook_id_created_at')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_organisation_id')

    op.drop_table('webhook')

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_user_id')

    op.drop_table('assignment')
    with op.batch_alter_table('gatekeeper', schema=None) as batch_op:
        batch_op.drop_index('ix_gatekeeper_user_id')

    op.drop_table('gatekeeper')
    with op.batch_alter_table('evaluator', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluator_user_id')

    op.drop_table('evaluator')

    op.execute(f"DELETE FROM notification WHERE user_id IS NOT NULL OR NOT ({_kinds(OLD_KINDS)})")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _kinds(OLD_KINDS))
        batch_op.drop_constraint(batch_op.f('ck_notification_one_addressee'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_notification_user_id_user_account'), type_='foreignkey')
        batch_op.drop_index('ix_notification_user_id_at')
        batch_op.alter_column('organisation_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('user_id')

    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index('ix_vote_user_id')

    op.drop_table('vote')
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_criterion_id')

    op.drop_table('rating')
    with op.batch_alter_table('idea_event', schema=None) as batch_op:
        batch_op.drop_index('ix_idea_event_idea_id_at')

    op.drop_table('idea_event')
    with op.batch_alter_table('idea_author', schema=None) as batch_op:
        batch_op.drop_index('ix_idea_author_user_id')
        batch_op.drop_index('ix_idea_author_organisation_id')

    op.drop_table('idea_author')
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_user_id')

    op.drop_table('follow')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_idea_id_created_at')

    op.drop_table('comment')
    op.drop_table('terms_acceptance')
    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.drop_index('ix_idea_organisation_id')
        batch_op.drop_index('ix_idea_merged_into_id')
        batch_op.drop_index('ix_idea_challenge_id_created_at')

    op.drop_table('idea')
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_index('ix_criterion_challenge_id')

    op.drop_table('criterion')
    with op.batch_alter_table('challenge_invitation', schema=None) as batch_op:
        batch_op.drop_index('ix_challenge_invitation_organisation_id')

    op.drop_table('challenge_invitation')
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.drop_index('ix_challenge_organisation_id')

    op.drop_table('challenge')
