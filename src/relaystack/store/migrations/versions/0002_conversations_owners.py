"""Conversations and their items; response items record their owner.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Every stored row says whose it is; existing input/output items inherit their
    # response's owner.
    op.add_column(
        "response_items",
        sa.Column("owner", sa.String(200), nullable=False, server_default=""),
    )
    op.execute(
        "UPDATE response_items SET owner = COALESCE("
        "(SELECT responses.owner FROM responses WHERE responses.id = response_items.response_id),"
        " '')"
    )
    op.create_table(
        "conversations",
        sa.Column("pk", _serial, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(80), nullable=False, unique=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("next_position", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_conversations_owner_pk", "conversations", ["owner", "pk"])
    op.create_table(
        "conversation_items",
        sa.Column("pk", _serial, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("item_id", sa.String(80), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_conversation_items_conversation_position",
        "conversation_items",
        ["conversation_id", "position"],
        unique=True,
    )
    op.create_index(
        "ix_conversation_items_conversation_item",
        "conversation_items",
        ["conversation_id", "item_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("conversation_items")
    op.drop_table("conversations")
    with op.batch_alter_table("response_items") as batch:
        batch.drop_column("owner")
