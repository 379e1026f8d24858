"""Tables. Items are rows of their own, so a chain grows by appending, never rewriting."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants a BIGINT.
SerialKey = BigInteger().with_variant(Integer(), "sqlite")

responses = Table(
    "responses",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False, unique=True),
    Column("owner", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("model", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("previous_response_id", String(80)),
    # The response object as returned to clients, without its output (kept as items).
    Column("body", Text, nullable=False),
    Index("ix_responses_owner_pk", "owner", "pk"),
)

response_items = Table(
    "response_items",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("response_id", String(80), nullable=False),
    Column("kind", SmallInteger, nullable=False),  # INPUT_ITEM or OUTPUT_ITEM
    Column("position", Integer, nullable=False),
    Column("item_id", String(80), nullable=False),
    Column("body", Text, nullable=False),
    Column("owner", String(200), nullable=False, server_default=""),
    Index(
        "ix_response_items_response_kind_position", "response_id", "kind", "position", unique=True
    ),
    # item_reference inputs name an item by its id alone.
    Index("ix_response_items_owner_item", "owner", "item_id"),
)

INPUT_ITEM = 0
OUTPUT_ITEM = 1

conversations = Table(
    "conversations",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False, unique=True),
    Column("owner", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("metadata", Text, nullable=False),
    # The position the next appended item gets. Appenders bump it with one UPDATE,
    # which also row-locks the conversation until they commit: that lock is what
    # gives concurrent appends (from any replica) one total order without gaps in a batch.
    Column("next_position", BigInteger, nullable=False, server_default="0"),
    Index("ix_conversations_owner_pk", "owner", "pk"),
)

conversation_items = Table(
    "conversation_items",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("conversation_id", String(80), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("item_id", String(80), nullable=False),
    Column("body", Text, nullable=False),
    Index(
        "ix_conversation_items_conversation_position",
        "conversation_id",
        "position",
        unique=True,
    ),
    # Items keep the ids they came with, so an id names one item of a conversation.
    Index("ix_conversation_items_conversation_item", "conversation_id", "item_id", unique=True),
    Index("ix_conversation_items_owner_item", "owner", "item_id"),
)

# Tokens and requests per owner, model and UTC day. Every replica adds its own counts
# into the same row (an upsert), so a row is the sum over replicas.
usage = Table(
    "usage",
    metadata,
    Column("owner", String(200), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("model", String(300), primary_key=True),
    Column("requests", BigInteger, nullable=False, server_default="0"),
    Column("input_tokens", BigInteger, nullable=False, server_default="0"),
    Column("output_tokens", BigInteger, nullable=False, server_default="0"),
)

# Fixed windows per owner (``span`` 60: a minute, 86400: a UTC day, ``window`` its start
# in epoch seconds): requests admitted and tokens used in it, by every replica.
rate_windows = Table(
    "rate_windows",
    metadata,
    Column("owner", String(200), primary_key=True),
    Column("span", Integer, primary_key=True),
    Column("window", BigInteger, primary_key=True),
    Column("requests", BigInteger, nullable=False, server_default="0"),
    Column("tokens", BigInteger, nullable=False, server_default="0"),
)

# One row per concurrency slot a replica holds (renewed while it lives); a lease that
# outlives its replica (killed) stops counting at ``expires_at``.
inflight = Table(
    "inflight",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_inflight_owner", "owner"),
)

# Background responses (migration 0006). A job row lives while its response is queued
# or running; a replica running it holds a lease (``worker``, ``lease_until`` in epoch
# milliseconds) that it renews, and a lease left to expire means the replica is gone.
background_jobs = Table(
    "background_jobs",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("response_id", String(80), nullable=False, unique=True),
    Column("owner", String(200), nullable=False),
    Column("request", Text, nullable=False),  # the validated request, as JSON
    Column("state", String(10), nullable=False),  # queued | running
    Column("worker", String(40)),
    Column("lease_until", BigInteger, nullable=False, server_default="0"),
    Column("cancel_requested", Boolean, nullable=False, server_default=false()),
    Index("ix_background_jobs_state_pk", "state", "pk"),
)

# Every event of a background response, as streamed, so a stream can resume anywhere.
response_events = Table(
    "response_events",
    metadata,
    Column("response_id", String(80), primary_key=True),
    Column("sequence_number", Integer, primary_key=True),
    Column("body", Text, nullable=False),
)

# Reusable prompts: every version a row; a prompt is its rows, the latest the highest.
prompt_versions = Table(
    "prompt_versions",
    metadata,
    Column("pk", SerialKey, primary_key=True, autoincrement=True),
    Column("prompt_id", String(80), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # The version as clients see it (id, version, instructions, input ...).
    Column("body", Text, nullable=False),
    Index("ix_prompt_versions_prompt_version", "prompt_id", "version", unique=True),
    Index("ix_prompt_versions_owner_pk", "owner", "pk"),
)
