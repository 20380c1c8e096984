"""Events about narrowed project items keep the item's audience as it was: the recording
party and its audience rows. Events of narrowed items that still exist take the item's
audience; events of items deleted before this revision cannot tell theirs and are shown to
nobody (their text may name a narrowed item).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

ITEM_TABLES = {"work_package": "work_package", "milestone": "project_milestone", "risk": "project_risk",
               "decision": "project_decision", "background_ip": "background_ip", "result": "project_result"}


def upgrade() -> None:
    with op.batch_alter_table('project_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('narrowed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_project_event_organisation_id_organisation'),
                                    'organisation', ['organisation_id'], ['id'], ondelete='CASCADE')
    for item_type, table in ITEM_TABLES.items():
        op.execute(f"""
            UPDATE project_event SET narrowed = {table}.narrowed, organisation_id = {table}.organisation_id
            FROM {table} WHERE project_event.item_type = '{item_type}' AND project_event.item_id = {table}.id""")
        op.execute(f"""
            INSERT INTO project_audience (item_type, item_id, organisation_id)
            SELECT 'project_event', project_event.id, project_audience.organisation_id
            FROM project_event JOIN project_audience ON project_audience.item_type = project_event.item_type
                 AND project_audience.item_id = project_event.item_id
            WHERE project_event.item_type = '{item_type}' AND project_event.narrowed""")
        op.execute(f"""
            UPDATE project_event SET narrowed = true
            WHERE item_type = '{item_type}' AND NOT EXISTS (SELECT 1 FROM {table} WHERE {table}.id = project_event.item_id)""")


def downgrade() -> None:
    op.execute("DELETE FROM project_audience WHERE item_type = 'project_event'")
    with op.batch_alter_table('project_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_project_event_organisation_id_organisation'), type_='foreignkey')
        batch_op.drop_column('organisation_id')
        batch_op.drop_column('narrowed')
