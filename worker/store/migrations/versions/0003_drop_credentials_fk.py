"""Drop the foreign key from candidate_credentials to candidates.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Why: on PostgreSQL the key's check trigger was the largest single cost of storing a new
candidate. Ingest writes about three credential rows per candidate, and each inserted row ran
a `SELECT ... FOR KEY SHARE` on candidates: measured with `bench/ingest_profile.py`, 20,000 new
candidates took ~195 µs each with the key and ~148 µs without it.

What it guarded is held by the code instead, and nothing relied on the rest:

- Rows are written in one place only (`worker.store.candidates._sync_credentials`), in the
  transaction that has just upserted those same candidates, so their candidate row exists and
  is locked.
- `ON DELETE CASCADE` never fired: no code deletes a candidate row (erasure keeps a tombstone
  and deletes the candidate's credential rows itself).
- Every reader reaches credential rows from a candidate row (the matcher's semi-joins and
  counts, the status page's funnel), so a row without its candidate, should an operator
  delete candidates by hand, would never be matched or counted.

SQLite rebuilds the table without the key (batch mode); its rows are copied unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "candidate_credentials"
_KEY = "fk_candidate_credentials_tenant_id_candidate_id_candidates"


def upgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.create_foreign_key(
            _KEY,
            "candidates",
            ["tenant_id", "candidate_id"],
            ["tenant_id", "candidate_id"],
            ondelete="CASCADE",
        )
