"""The reference mailer's sent ledger: one row per outreach_id (worker/mailer/ledger.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Types are spelled out here, as in 0001, so this revision keeps creating the same table when
the model moves on. Timestamps are BIGINT microseconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _byte_ordered(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mail_ledger",
        sa.Column("outreach_id", sa.String(36), nullable=False),
        sa.Column("tenant_id", _byte_ordered(64), nullable=False),
        sa.Column("job_id", _byte_ordered(128), nullable=False),
        sa.Column("candidate_id", _byte_ordered(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_mail_ledger_mail_state"),
        ),
        sa.PrimaryKeyConstraint("outreach_id", name=op.f("pk_mail_ledger")),
    )


def downgrade() -> None:
    op.drop_table("mail_ledger")
