"""Each input partition's progress, so several workers can decide in event-time order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

A worker that is ahead no longer decides a job while a candidate update dated before it
waits, unapplied, on another worker's partition: owners write how far each partition is
applied, and a job's match waits until every other partition is past it
(worker/ingest/group_order.py). A new table: nothing existing changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partition_progress",
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_time", sa.BigInteger(), nullable=True),
        sa.Column("caught_up_offset", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "partition", name="pk_partition_progress"),
    )


def downgrade() -> None:
    op.drop_table("partition_progress")
