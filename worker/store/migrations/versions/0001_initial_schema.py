"""Initial schema: candidates and their credentials, jobs, outreach, dedupe markers, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Types are spelled out here rather than imported from worker.store, so this revision keeps
creating the same tables when the models move on. Timestamps are BIGINT microseconds since
the epoch (see worker/store/columns.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACTABLE_SQL = (
    "email IS NOT NULL AND email_syntax_valid AND email_status NOT IN ('bounced', 'invalid') "
    "AND NOT email_suppressed AND NOT do_not_contact"
)


def _byte_ordered(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _timestamp(name: str, *, nullable: bool) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", _byte_ordered(64), nullable=False)


def upgrade() -> None:
    op.create_table(
        "candidates",
        _tenant(),
        sa.Column("candidate_id", _byte_ordered(128), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("email_syntax_valid", sa.Boolean(), nullable=False),
        sa.Column("email_status", sa.String(16), nullable=False),
        sa.Column(
            "email_suppressed", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column(
            "contactable",
            sa.Boolean(),
            sa.Computed(CONTACTABLE_SQL, persisted=True),
            nullable=False,
        ),
        _timestamp("consent_expires_at", nullable=True),
        _timestamp("last_activity_at", nullable=True),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("applications", sa.JSON(), nullable=False),
        _timestamp("updated_at", nullable=False),
        _timestamp("erased_at", nullable=True),
        sa.CheckConstraint(
            "email_status IN ('unknown', 'valid', 'bounced', 'invalid')",
            name=op.f("ck_candidates_email_status"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "candidate_id", name=op.f("pk_candidates")),
    )
    op.create_index(
        "ix_candidates_contactable_activity",
        "candidates",
        ["tenant_id", "last_activity_at"],
        postgresql_where=sa.text("contactable"),
        sqlite_where=sa.text("contactable"),
    )

    op.create_table(
        "candidate_credentials",
        _tenant(),
        sa.Column("candidate_id", _byte_ordered(128), nullable=False),
        sa.Column("credential", _byte_ordered(1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "candidate_id"],
            ["candidates.tenant_id", "candidates.candidate_id"],
            name=op.f("fk_candidate_credentials_tenant_id_candidate_id_candidates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "candidate_id", "credential", name=op.f("pk_candidate_credentials")
        ),
    )
    op.create_index(
        "ix_candidate_credentials_lookup",
        "candidate_credentials",
        ["tenant_id", "credential", "candidate_id"],
    )

    op.create_table(
        "jobs",
        _tenant(),
        sa.Column("job_id", _byte_ordered(128), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("apply_url", sa.Text(), nullable=True),
        sa.Column("required_credentials", sa.JSON(), nullable=False),
        sa.Column("preferred_credentials", sa.JSON(), nullable=False),
        sa.Column("required_normalised", sa.JSON(), nullable=False),
        sa.Column("preferred_normalised", sa.JSON(), nullable=False),
        sa.Column("min_inactive_days", sa.Integer(), nullable=True),
        sa.Column("max_inactive_days", sa.Integer(), nullable=True),
        sa.Column("max_outreach", sa.Integer(), nullable=True),
        _timestamp("opened_at", nullable=True),
        _timestamp("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_tenant_opened", "jobs", ["tenant_id", "opened_at"])

    op.create_table(
        "outreach",
        sa.Column("outreach_id", sa.String(36), nullable=False),
        _tenant(),
        sa.Column("job_id", _byte_ordered(128), nullable=False),
        sa.Column("candidate_id", _byte_ordered(128), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        _timestamp("requested_at", nullable=False),
        sa.Column("status", sa.String(16), server_default="requested", nullable=False),
        _timestamp("status_at", nullable=True),
        sa.Column("cancel_reason", sa.String(32), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'cancelled', 'sent', 'failed')",
            name=op.f("ck_outreach_outreach_status"),
        ),
        sa.PrimaryKeyConstraint("outreach_id", name=op.f("pk_outreach")),
        sa.UniqueConstraint(
            "tenant_id",
            "job_id",
            "candidate_id",
            name=op.f("uq_outreach_tenant_id_job_id_candidate_id"),
        ),
        sa.UniqueConstraint(
            "tenant_id", "job_id", "rank", name=op.f("uq_outreach_tenant_id_job_id_rank")
        ),
    )
    op.create_index(
        "ix_outreach_candidate_requested",
        "outreach",
        ["tenant_id", "candidate_id", "requested_at"],
    )

    op.create_table(
        "processed_events",
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("event_id", sa.String(256), nullable=False),
        _timestamp("processed_at", nullable=False),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_processed_events")),
    )

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("published_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    for table in (
        "outbox",
        "processed_events",
        "outreach",
        "jobs",
        "candidate_credentials",
        "candidates",
    ):
        op.drop_table(table)
