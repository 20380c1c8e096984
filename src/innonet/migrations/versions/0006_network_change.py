"""The network's data version as inserted rows instead of one row every write updated.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'network_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_network_change')),
    )
    # Analyses cached before the upgrade belong to a version that no longer exists.
    op.bulk_insert(table, [{'token': 1}])
    op.drop_table('network_version')


def downgrade() -> None:
    table = op.create_table(
        'network_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_network_version')),
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])
    op.drop_table('network_change')
