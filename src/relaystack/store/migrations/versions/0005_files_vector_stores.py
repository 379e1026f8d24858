"""Files, vector stores, their files and batches, and chunks with a keyword index.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SerialKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("pk", _SerialKey, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(80), nullable=False, unique=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("in_database", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_files_owner_pk", "files", ["owner", "pk"])
    op.create_table(
        "file_blobs",
        sa.Column("file_id", sa.String(80), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "vector_stores",
        sa.Column("pk", _SerialKey, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(80), nullable=False, unique=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_active_at", sa.BigInteger, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("expires_after", sa.Text),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("embedding_model", sa.String(300), nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_vector_stores_owner_pk", "vector_stores", ["owner", "pk"])
    op.create_table(
        "vector_store_files",
        sa.Column("pk", _SerialKey, primary_key=True, autoincrement=True),
        sa.Column("vector_store_id", sa.String(80), nullable=False),
        sa.Column("file_id", sa.String(80), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("chunking_strategy", sa.Text, nullable=False),
        sa.Column("usage_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("batch_id", sa.String(80)),
    )
    op.create_index(
        "ix_vector_store_files_store_file",
        "vector_store_files",
        ["vector_store_id", "file_id"],
        unique=True,
    )
    op.create_index("ix_vector_store_files_file", "vector_store_files", ["file_id"])
    op.create_index("ix_vector_store_files_batch", "vector_store_files", ["batch_id"])
    op.create_table(
        "file_batches",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("vector_store_id", sa.String(80), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("cancelled", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "file_chunks",
        sa.Column("pk", _SerialKey, primary_key=True, autoincrement=True),
        sa.Column("vector_store_id", sa.String(80), nullable=False),
        sa.Column("file_id", sa.String(80), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_file_chunks_store_file", "file_chunks", ["vector_store_id", "file_id"])
    op.create_index("ix_file_chunks_file", "file_chunks", ["file_id"])
    _keyword_index_up()


def _keyword_index_up() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # 'simple': no stemming or stop words of one language; texts may be any language.
        op.execute(
            "ALTER TABLE file_chunks ADD COLUMN words tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED"
        )
        op.execute("CREATE INDEX ix_file_chunks_words ON file_chunks USING GIN (words)")
        return
    # An external-content FTS5 table: the text is kept once, in file_chunks.
    op.execute(
        "CREATE VIRTUAL TABLE file_chunks_fts USING fts5("
        "text, content='file_chunks', content_rowid='pk', tokenize='unicode61 remove_diacritics 2')"
    )
    # How many chunks hold each word: lets a search skip words that match most chunks.
    op.execute("CREATE VIRTUAL TABLE file_chunks_vocab USING fts5vocab(file_chunks_fts, 'row')")
    op.execute(
        "CREATE TRIGGER file_chunks_fts_insert AFTER INSERT ON file_chunks BEGIN "
        "INSERT INTO file_chunks_fts(rowid, text) VALUES (new.pk, new.text); END"
    )
    op.execute(
        "CREATE TRIGGER file_chunks_fts_delete AFTER DELETE ON file_chunks BEGIN "
        "INSERT INTO file_chunks_fts(file_chunks_fts, rowid, text) "
        "VALUES ('delete', old.pk, old.text); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS file_chunks_fts_delete")
        op.execute("DROP TRIGGER IF EXISTS file_chunks_fts_insert")
        op.execute("DROP TABLE IF EXISTS file_chunks_vocab")
        op.execute("DROP TABLE IF EXISTS file_chunks_fts")
    for table in (
        "file_chunks",
        "file_batches",
        "vector_store_files",
        "vector_stores",
        "file_blobs",
        "files",
    ):
        op.drop_table(table)
