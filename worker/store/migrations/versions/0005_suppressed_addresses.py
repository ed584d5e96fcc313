"""Remember every address the mailer reported bounced or rejected, per candidate.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Rule 4 excludes a candidate when the mailer "reported this address bounced or rejected".
Until now the candidate's `email_suppressed` flag was the only record, and a snapshot with a
different address cleared it: changing to another address and back made a bounced address
usable again. `suppressed_addresses` keeps each reported address (ASCII letters lower-cased,
as the upsert compares them) and the upsert re-derives the flag from it.

The table starts with the current address of every candidate whose flag is set, which is all
this revision can know of the past.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _byte_ordered(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "suppressed_addresses",
        sa.Column("tenant_id", _byte_ordered(64), nullable=False),
        sa.Column("candidate_id", _byte_ordered(128), nullable=False),
        sa.Column("address", _byte_ordered(254), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "candidate_id", "address", name=op.f("pk_suppressed_addresses")
        ),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    lowered = 'lower(email COLLATE "C")' if postgresql else "lower(email)"
    op.execute(
        "INSERT INTO suppressed_addresses (tenant_id, candidate_id, address) "  # noqa: S608
        f"SELECT tenant_id, candidate_id, {lowered} FROM candidates "
        "WHERE email_suppressed AND email IS NOT NULL AND length(email) <= 254"
    )


def downgrade() -> None:
    op.drop_table("suppressed_addresses")
