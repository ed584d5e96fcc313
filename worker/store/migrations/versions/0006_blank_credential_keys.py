"""Store the empty key of credentials that normalise to nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Until now a credential whose normalised form is "" (one made only of U+001C-U+001F and
whitespace: the contract does not trim those four, `strip()` does) got no candidate_credentials
row, and a job requiring one had no requirement at all. Such a requirement now is one, met only
by a candidate credential that normalises to "" as well, so those candidates get their "" row
here. The jobs' `*_normalised` lists (kept for operators; the matcher derives its keys from the
job's own credentials) get "" where their credentials call for it.

Only candidates and jobs whose stored JSON holds one of the four characters are read (JSON
writes them as \\u001c-\\u001f). The normalisation is spelled out here rather than imported, so
that this revision keeps doing what it did when the rules module moves on. Downgrade leaves
the rows: the earlier code ignores them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As JSON text: `json.dumps` escapes these control characters this way.
_CANDIDATE_TEXT = "%\\u001%"
_SEPARATORS = {"\x1c", "\x1d", "\x1e", "\x1f"}
_JOBS = sa.table(
    "jobs",
    sa.column("tenant_id", sa.String),
    sa.column("job_id", sa.String),
    sa.column("required_normalised", sa.JSON),
    sa.column("preferred_normalised", sa.JSON),
)


def _normalises_to_nothing(credential: str) -> bool:
    folded = unicodedata.normalize("NFKC", credential).casefold()
    return not folded.split()


def _may_normalise_to_nothing(values: Sequence[str]) -> bool:
    return any(_SEPARATORS & set(v) and _normalises_to_nothing(v) for v in values)


def upgrade() -> None:
    connection = op.get_bind()
    like = "CAST({} AS TEXT) LIKE :pattern ESCAPE '!'"
    candidates = connection.execute(
        sa.text(
            "SELECT tenant_id, candidate_id, credentials FROM candidates WHERE "  # noqa: S608
            + like.format("credentials")
        ),
        {"pattern": _CANDIDATE_TEXT},
    ).all()
    for tenant_id, candidate_id, credentials in candidates:
        if not _may_normalise_to_nothing(_loaded(credentials)):
            continue
        key = {"t": tenant_id, "c": candidate_id}
        held = connection.execute(
            sa.text(
                "SELECT 1 FROM candidate_credentials"
                " WHERE tenant_id = :t AND candidate_id = :c AND credential = ''"
            ),
            key,
        ).first()
        if held is None:
            connection.execute(
                sa.text(
                    "INSERT INTO candidate_credentials (tenant_id, candidate_id, credential)"
                    " VALUES (:t, :c, '')"
                ),
                key,
            )
    jobs = connection.execute(
        sa.text(
            "SELECT tenant_id, job_id, required_credentials, preferred_credentials,"  # noqa: S608
            " required_normalised, preferred_normalised FROM jobs WHERE "
            + " OR ".join(like.format(c) for c in ("required_credentials", "preferred_credentials"))
        ),
        {"pattern": _CANDIDATE_TEXT},
    ).all()
    for tenant_id, job_id, required, preferred, required_keys, preferred_keys in jobs:
        updated: dict[str, list[str]] = {}
        for column, credentials, keys in (
            ("required_normalised", required, required_keys),
            ("preferred_normalised", preferred, preferred_keys),
        ):
            stored = _loaded(keys)
            if _may_normalise_to_nothing(_loaded(credentials)) and "" not in stored:
                updated[column] = sorted([*stored, ""])
        if updated:
            connection.execute(
                sa.update(_JOBS)
                .where(_JOBS.c.tenant_id == tenant_id, _JOBS.c.job_id == job_id)
                .values(**updated)
            )


def downgrade() -> None:
    pass


def _loaded(value: object) -> list[str]:
    stored = json.loads(value) if isinstance(value, str) else value
    return [v for v in stored if isinstance(v, str)] if isinstance(stored, list) else []
