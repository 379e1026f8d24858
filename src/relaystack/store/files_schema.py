"""Tables of the Files and Vector stores APIs (migration 0005).

A file is a row plus its bytes (a blob on disk, or a ``file_blobs`` row when the
database is shared by replicas). A vector store holds files (``vector_store_files``,
each with its status and attributes); each file in a store is cut into chunks, and each
chunk keeps its text and its embedding (float32 bytes). Keywords are searched with the
database's own full-text index: an FTS5 table over ``file_chunks`` on SQLite, a
``tsvector`` column with a GIN index on PostgreSQL (both made in the migration).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table, Text

from relaystack.store.schema import SerialKey, metadata

files = Table(
    "files",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False, unique=True),
    Column("owner", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("filename", Text, nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("in_database", Integer, nullable=False, server_default="0"),  # else on disk
    Index("ix_files_owner_pk", "owner", "pk"),
)

file_blobs = Table(
    "file_blobs",
    metadata,
    Column("file_id", String(80), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

vector_stores = Table(
    "vector_stores",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False, unique=True),
    Column("owner", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_active_at", BigInteger, nullable=False),
    Column("name", Text),
    Column("metadata", Text, nullable=False),
    Column("expires_after", Text),  # JSON, or NULL
    Column("expires_at", BigInteger),
    Column("embedding_model", String(300), nullable=False),
    # Bumped whenever the store's chunks change: a cached vector index of the store is
    # trusted only while its revision is the stored one (any replica may have written).
    Column("revision", BigInteger, nullable=False, server_default="0"),
    Index("ix_vector_stores_owner_pk", "owner", "pk"),
)

vector_store_files = Table(
    "vector_store_files",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("vector_store_id", String(80), nullable=False),
    Column("file_id", String(80), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # in_progress, completed, failed, cancelled
    Column("last_error", Text),  # JSON {"code", "message"}, or NULL
    Column("attributes", Text, nullable=False),
    Column("chunking_strategy", Text, nullable=False),
    Column("usage_bytes", BigInteger, nullable=False, server_default="0"),
    Column("batch_id", String(80)),
    Index("ix_vector_store_files_store_file", "vector_store_id", "file_id", unique=True),
    Index("ix_vector_store_files_file", "file_id"),
    Index("ix_vector_store_files_batch", "batch_id"),
)

file_batches = Table(
    "file_batches",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("vector_store_id", String(80), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("cancelled", Integer, nullable=False, server_default="0"),
)

file_chunks = Table(
    "file_chunks",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("vector_store_id", String(80), nullable=False),
    Column("file_id", String(80), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("embedding", LargeBinary, nullable=False),  # float32, little-endian, unit length
    Index("ix_file_chunks_store_file", "vector_store_id", "file_id"),
    Index("ix_file_chunks_file", "file_id"),
)
