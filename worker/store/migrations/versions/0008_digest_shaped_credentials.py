"""Key a credential spelled like a digest by its digest (worker/store/bounded_keys.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

A credential whose normalised form is exactly "sha256:" + 64 hex digits was stored as itself,
the same key as the long credential it names. It is now stored as its own digest. Only rows
of that shape can change; among them, the candidate's own spellings tell a literal from the
digest of a long credential, so the candidates holding such a row get their keys recomputed,
and jobs whose lists hold one get theirs. The rule is spelled out here rather than imported,
so that this revision keeps doing what it did when credential_keys moves on.

A processed-event marker "sha256:<hex>" may be an event id (or source) spelled so or the
digest of a long one, and nothing stored tells which. So each such marker gets a twin under
the key the literal now has: an event processed before this revision stays a duplicate if it
comes again (an erasure or a bounce applied twice would undo what came after it). Where the
marker was a real digest, the twin is the key of a value nobody sends. Downgrade leaves the
rows: the earlier code looks the literal up as itself and misses.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MAX_PLAIN_BYTES = 256
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_DELETE_KEY = sa.text(
    "DELETE FROM candidate_credentials"
    " WHERE tenant_id = :t AND candidate_id = :c AND credential = :k"
)
_INSERT_KEY = sa.text(
    "INSERT INTO candidate_credentials (tenant_id, candidate_id, credential) VALUES (:t, :c, :k)"
)
_JOBS = sa.table(
    "jobs",
    sa.column("tenant_id", sa.String),
    sa.column("job_id", sa.String),
    sa.column("required_normalised", sa.JSON),
    sa.column("preferred_normalised", sa.JSON),
)


def _key(credential: str) -> str:
    folded = unicodedata.normalize("NFKC", credential).casefold()
    normalised = " ".join(folded.split())
    encoded = normalised.encode("utf-8")
    if len(encoded) <= _MAX_PLAIN_BYTES and not _DIGEST.fullmatch(normalised):
        return normalised
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def _keys(credentials: Iterable[str]) -> set[str]:
    return {_key(c) for c in credentials}


def _marker_part(value: str) -> str:
    """A marker's source or id as now keyed, were it the literal text (it fits: it is stored)."""
    if _DIGEST.fullmatch(value):
        return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
    return value


def upgrade() -> None:
    connection = op.get_bind()
    holders = connection.execute(
        sa.text(
            "SELECT c.tenant_id, c.candidate_id, c.credentials FROM candidates AS c"
            " WHERE EXISTS (SELECT 1 FROM candidate_credentials AS k"
            " WHERE k.tenant_id = c.tenant_id AND k.candidate_id = c.candidate_id"
            " AND k.credential LIKE 'sha256:%')"
        )
    ).all()
    for tenant_id, candidate_id, credentials in holders:
        key = {"t": tenant_id, "c": candidate_id}
        held = set(
            connection.execute(
                sa.text(
                    "SELECT credential FROM candidate_credentials"
                    " WHERE tenant_id = :t AND candidate_id = :c"
                ),
                key,
            ).scalars()
        )
        wanted = _keys(_loaded(credentials))
        for statement, changed in ((_DELETE_KEY, held - wanted), (_INSERT_KEY, wanted - held)):
            for credential in sorted(changed):
                connection.execute(statement, {**key, "k": credential})
    jobs = connection.execute(
        sa.text(
            "SELECT tenant_id, job_id, required_credentials, preferred_credentials,"
            " required_normalised, preferred_normalised FROM jobs"
            " WHERE CAST(required_normalised AS TEXT) LIKE '%sha256:%'"
            " OR CAST(preferred_normalised AS TEXT) LIKE '%sha256:%'"
        )
    ).all()
    for tenant_id, job_id, required, preferred, required_keys, preferred_keys in jobs:
        keyed = [sorted(_keys(_loaded(required))), sorted(_keys(_loaded(preferred)))]
        if keyed != [sorted(_loaded(required_keys)), sorted(_loaded(preferred_keys))]:
            connection.execute(
                sa.update(_JOBS)
                .where(_JOBS.c.tenant_id == tenant_id, _JOBS.c.job_id == job_id)
                .values(required_normalised=keyed[0], preferred_normalised=keyed[1])
            )
    _twin_digest_shaped_markers(connection)


def _twin_digest_shaped_markers(connection: sa.Connection) -> None:
    markers = connection.execute(
        sa.text(
            "SELECT source, event_id, processed_at FROM processed_events"
            " WHERE source LIKE 'sha256:%' OR event_id LIKE 'sha256:%'"
        )
    ).all()
    for source, event_id, processed_at in markers:
        twin = {"s": _marker_part(source), "e": _marker_part(event_id), "at": processed_at}
        if (twin["s"], twin["e"]) == (source, event_id):
            continue
        exists = connection.execute(
            sa.text("SELECT 1 FROM processed_events WHERE source = :s AND event_id = :e"), twin
        ).first()
        if exists is None:
            connection.execute(
                sa.text(
                    "INSERT INTO processed_events (source, event_id, processed_at)"
                    " VALUES (:s, :e, :at)"
                ),
                twin,
            )


def downgrade() -> None:
    pass


def _loaded(value: object) -> list[str]:
    stored = json.loads(value) if isinstance(value, str) else value
    return [v for v in stored if isinstance(v, str)] if isinstance(stored, list) else []
