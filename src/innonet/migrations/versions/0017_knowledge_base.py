"""The knowledge base: items, their versions, links and attachments, and full-text search
(SQLite: an FTS5 index kept in step by triggers; PostgreSQL: a generated tsvector column
with a GIN index).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 01:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

COLUMNS = "title, tags, body, attachment_text"
SQLITE_SEARCH = [
    # External content: the index reads the text from knowledge_item; Porter stems English words.
    f"CREATE VIRTUAL TABLE knowledge_fts USING fts5({COLUMNS}, content='knowledge_item', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER knowledge_fts_insert AFTER INSERT ON knowledge_item BEGIN "
    f"INSERT INTO knowledge_fts(rowid, {COLUMNS}) VALUES (new.id, new.title, new.tags, new.body, new.attachment_text); END",
    f"CREATE TRIGGER knowledge_fts_delete AFTER DELETE ON knowledge_item BEGIN "
    f"INSERT INTO knowledge_fts(knowledge_fts, rowid, {COLUMNS}) "
    "VALUES ('delete', old.id, old.title, old.tags, old.body, old.attachment_text); END",
    f"CREATE TRIGGER knowledge_fts_update AFTER UPDATE OF {COLUMNS} ON knowledge_item BEGIN "
    f"INSERT INTO knowledge_fts(knowledge_fts, rowid, {COLUMNS}) "
    "VALUES ('delete', old.id, old.title, old.tags, old.body, old.attachment_text); "
    f"INSERT INTO knowledge_fts(rowid, {COLUMNS}) VALUES (new.id, new.title, new.tags, new.body, new.attachment_text); END",
]
POSTGRESQL_SEARCH = [
    "ALTER TABLE knowledge_item ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', replace(tags, ',', ' ')), 'A') || "
    "setweight(to_tsvector('english', body), 'B') || "
    "setweight(to_tsvector('english', attachment_text), 'C')) STORED",
    "CREATE INDEX ix_knowledge_item_search_vector ON knowledge_item USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table('knowledge_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=600), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('attachment_text', sa.Text(), nullable=False),
    sa.Column('meaning', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('lesson', 'how_to', 'document', 'market_insight', 'technology_profile')", name=op.f('ck_knowledge_item_kind')),
    sa.CheckConstraint("visibility IN ('private', 'partners', 'network', 'public')", name=op.f('ck_knowledge_item_visibility')),
    sa.CheckConstraint('length(body) <= 50000', name=op.f('ck_knowledge_item_body_length')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_knowledge_item_agreement_id_agreement'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_knowledge_item_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_knowledge_item_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_knowledge_item_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_item'))
    )
    with op.batch_alter_table('knowledge_item', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_item_organisation_id_updated_at', ['organisation_id', 'updated_at'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('text_state', sa.String(length=10), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("text_state IN ('pending', 'done', 'none', 'failed')", name=op.f('ck_attachment_text_state')),
    sa.ForeignKeyConstraint(['item_id'], ['knowledge_item.id'], name=op.f('fk_attachment_item_id_knowledge_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_attachment_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachment_storage_key'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_item_id', ['item_id'], unique=False)

    op.create_table('knowledge_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=15), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("target_type IN ('organisation', 'project', 'idea', 'challenge')", name=op.f('ck_knowledge_link_target_type')),
    sa.ForeignKeyConstraint(['item_id'], ['knowledge_item.id'], name=op.f('fk_knowledge_link_item_id_knowledge_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_link')),
    sa.UniqueConstraint('item_id', 'target_type', 'target_id', name=op.f('uq_knowledge_link_item_id_target_type_target_id'))
    )
    with op.batch_alter_table('knowledge_link', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_link_target', ['target_type', 'target_id'], unique=False)

    op.create_table('knowledge_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=600), nullable=False),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['edited_by_id'], ['user_account.id'], name=op.f('fk_knowledge_version_edited_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['knowledge_item.id'], name=op.f('fk_knowledge_version_item_id_knowledge_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_version')),
    sa.UniqueConstraint('item_id', 'version', name=op.f('uq_knowledge_version_item_id_version'))
    )

    for statement in SQLITE_SEARCH if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER knowledge_fts_{name}")
        op.execute("DROP TABLE knowledge_fts")
    op.drop_table('knowledge_version')
    with op.batch_alter_table('knowledge_link', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_link_target')

    op.drop_table('knowledge_link')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_item_id')

    op.drop_table('attachment')
    with op.batch_alter_table('knowledge_item', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_item_organisation_id_updated_at')

    op.drop_table('knowledge_item')
