"""The challenge owner's team is told of each new idea: notification kind "idea_submitted".

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 02:05:00
"""

from collections.abc import Iterable

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

OLD_KINDS = ('shared', 'introduction_requested', 'introduction_accepted', 'introduction_declined',
             'challenge_invitation', 'mention', 'comment', 'stage_changed', 'decision', 'co_author', 'evaluation',
             'project', 'exit_review', 'partnership_alert')
NEW_KINDS = OLD_KINDS + ('idea_submitted',)


def _kinds(kinds: Iterable[str]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


def _notification_kinds(kinds: Iterable[str]) -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _kinds(kinds))


def upgrade() -> None:
    _notification_kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute(f"DELETE FROM notification WHERE NOT ({_kinds(OLD_KINDS)})")
    _notification_kinds(OLD_KINDS)
