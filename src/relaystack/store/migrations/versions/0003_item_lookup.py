"""Indexes to find an item by its id (for item_reference inputs).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_response_items_owner_item", "response_items", ["owner", "item_id"])
    op.create_index("ix_conversation_items_owner_item", "conversation_items", ["owner", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_items_owner_item", "conversation_items")
    op.drop_index("ix_response_items_owner_item", "response_items")
