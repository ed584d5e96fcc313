"""Processed-event markers that may be deleted once they expire.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

`processed_events` held one row per event ever applied (about 215 bytes on PostgreSQL with an
index entry, 150 on SQLite), so it grew with every candidate snapshot. A marker now carries
`expires_at` when the event's handler is idempotent by event time without it (candidate
snapshots: an older or equal `updated_at` is stale), and the worker deletes expired ones
(worker/ingest/dedupe.py). Markers written before this revision have none and are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable without a default: PostgreSQL adds it without rewriting the table. The index
    # has no entry yet but reads the whole table once, under the lock the column took: a
    # worker of the previous release left running would wait that long for its next batch.
    op.add_column("processed_events", sa.Column("expires_at", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_processed_events_expiring",
        "processed_events",
        ["expires_at"],
        postgresql_where=sa.text("expires_at IS NOT NULL"),
        sqlite_where=sa.text("expires_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_processed_events_expiring", table_name="processed_events")
    with op.batch_alter_table("processed_events") as batch:
        batch.drop_column("expires_at")
