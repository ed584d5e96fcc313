"""Partition progress per consumer group, and tied to the topic's id.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28

A progress row (0010) said how far a partition was applied, whoever wrote it: a second
consumer group on the same database (a shadow deployment, a re-read under a new group)
overwrote the first one's rows, and a row left from before a topic was deleted and created
again claimed offsets the new topic's owner had not applied, so a job could be decided ahead
of a do-not-contact flag still unread there. Rows are now keyed by group as well and carry
the broker's topic id; a reader ignores a row written for another incarnation of the topic.

The table is dropped and created again rather than altered: its rows are a running group's
view, which every member writes again in full within seconds (group_order.py), and SQLite
cannot change a primary key in place. Until the members write again, a job waits for them
as it does for a member that has not written yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("partition_progress")
    op.create_table(
        "partition_progress",
        sa.Column("consumer_group", sa.String(249), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.String(36), nullable=True),
        sa.Column("next_time", sa.BigInteger(), nullable=True),
        sa.Column("caught_up_offset", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "consumer_group", "topic", "partition", name="pk_partition_progress"
        ),
    )


def downgrade() -> None:
    op.drop_table("partition_progress")
    op.create_table(
        "partition_progress",
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_time", sa.BigInteger(), nullable=True),
        sa.Column("caught_up_offset", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "partition", name="pk_partition_progress"),
    )
