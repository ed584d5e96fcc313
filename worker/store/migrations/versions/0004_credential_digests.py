"""Store credentials whose normalised form is long as a digest (worker/store/credential_keys.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Rewrites the candidate_credentials rows, and the jobs' `*_normalised` lists, that hold a
normalised credential longer than 256 bytes of UTF-8. Only SQLite can hold such rows (it does
not enforce the column length; PostgreSQL refused them). The rule is spelled out here rather
than imported, so that this revision keeps doing what it did when credential_keys moves on.
Not reversible: a digest cannot be turned back into its text (downgrade leaves the rows).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MAX_PLAIN_BYTES = 256
# 256 bytes are at least 64 characters: shorter values need no look.
_SHORTEST_LONG = _MAX_PLAIN_BYTES // 4


_JOBS = sa.table(
    "jobs",
    sa.column("tenant_id", sa.String),
    sa.column("job_id", sa.String),
    sa.column("required_normalised", sa.JSON),
    sa.column("preferred_normalised", sa.JSON),
)


def _key(normalised: str) -> str:
    encoded = normalised.encode("utf-8")
    if len(encoded) <= _MAX_PLAIN_BYTES:
        return normalised
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def upgrade() -> None:
    connection = op.get_bind()
    long_rows = connection.execute(
        sa.text(
            "SELECT tenant_id, candidate_id, credential FROM candidate_credentials"
            " WHERE length(credential) > :shortest"
        ),
        {"shortest": _SHORTEST_LONG},
    ).all()
    for tenant_id, candidate_id, credential in long_rows:
        key = _key(credential)
        if key == credential:
            continue
        row = {"t": tenant_id, "c": candidate_id, "old": credential, "new": key}
        connection.execute(
            sa.text(
                "DELETE FROM candidate_credentials"
                " WHERE tenant_id = :t AND candidate_id = :c AND credential = :old"
            ),
            row,
        )
        connection.execute(
            sa.text(
                "INSERT INTO candidate_credentials (tenant_id, candidate_id, credential)"
                " VALUES (:t, :c, :new)"
            ),
            row,
        )
    jobs = connection.execute(
        sa.text("SELECT tenant_id, job_id, required_normalised, preferred_normalised FROM jobs")
    ).all()
    for tenant_id, job_id, required, preferred in jobs:
        lists = [_loaded(required), _loaded(preferred)]
        keyed = [sorted({_key(n) for n in values}) for values in lists]
        if keyed != lists:
            connection.execute(
                sa.update(_JOBS)
                .where(_JOBS.c.tenant_id == tenant_id, _JOBS.c.job_id == job_id)
                .values(required_normalised=keyed[0], preferred_normalised=keyed[1])
            )


def downgrade() -> None:
    pass


def _loaded(value: object) -> list[str]:
    stored = json.loads(value) if isinstance(value, str) else value
    return sorted(stored) if isinstance(stored, list) else []
