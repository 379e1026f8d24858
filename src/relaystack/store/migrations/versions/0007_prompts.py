"""Reusable prompts: one row per version of a prompt, owned like responses.

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt_versions",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("prompt_id", sa.String(80), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_prompt_versions_prompt_version",
        "prompt_versions",
        ["prompt_id", "version"],
        unique=True,
    )
    op.create_index("ix_prompt_versions_owner_pk", "prompt_versions", ["owner", "pk"])


def downgrade() -> None:
    op.drop_index("ix_prompt_versions_owner_pk", "prompt_versions")
    op.drop_index("ix_prompt_versions_prompt_version", "prompt_versions")
    op.drop_table("prompt_versions")
