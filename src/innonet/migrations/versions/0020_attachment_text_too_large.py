"""An attachment over a bound of reading is kept without its text: text_state "too_large".

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:10:00
"""

from collections.abc import Iterable

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

OLD_STATES = ('pending', 'done', 'none', 'failed')
NEW_STATES = OLD_STATES + ('too_large',)


def _states(states: Iterable[str]) -> None:
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_attachment_text_state'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_attachment_text_state'),
                                         f"text_state IN ({', '.join(repr(s) for s in states)})")


def upgrade() -> None:
    _states(NEW_STATES)


def downgrade() -> None:
    op.execute("UPDATE attachment SET text_state = 'failed' WHERE text_state = 'too_large'")
    _states(OLD_STATES)
