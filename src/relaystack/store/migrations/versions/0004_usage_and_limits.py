"""Usage per owner, model and day; the counters and leases behind limits per owner.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("model", sa.String(300), primary_key=True),
        sa.Column("requests", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "rate_windows",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("span", sa.Integer, primary_key=True),
        sa.Column("window", sa.BigInteger, primary_key=True),
        sa.Column("requests", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("tokens", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "inflight",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_inflight_owner", "inflight", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_inflight_owner", "inflight")
    op.drop_table("inflight")
    op.drop_table("rate_windows")
    op.drop_table("usage")
