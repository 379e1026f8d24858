"""Background responses: the job queue and the durable event log.

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "background_jobs",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("response_id", sa.String(80), nullable=False, unique=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("worker", sa.String(40)),
        sa.Column("lease_until", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_background_jobs_state_pk", "background_jobs", ["state", "pk"])
    op.create_table(
        "response_events",
        sa.Column("response_id", sa.String(80), primary_key=True),
        sa.Column("sequence_number", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("response_events")
    op.drop_index("ix_background_jobs_state_pk", "background_jobs")
    op.drop_table("background_jobs")
