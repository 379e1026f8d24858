"""Responses and their items.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("pk", _serial, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(80), nullable=False, unique=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("previous_response_id", sa.String(80)),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_responses_owner_pk", "responses", ["owner", "pk"])
    op.create_table(
        "response_items",
        sa.Column("pk", _serial, primary_key=True, autoincrement=True),
        sa.Column("response_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("item_id", sa.String(80), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_response_items_response_kind_position",
        "response_items",
        ["response_id", "kind", "position"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("response_items")
    op.drop_table("responses")
