"""Candidates: snapshots in, erasure, and the candidate values the rules read back out.

Stale protection is in the statement itself: `INSERT ... ON CONFLICT DO UPDATE ... WHERE
candidates.updated_at < excluded.updated_at`, so two workers applying snapshots of one
candidate in any interleaving keep the newest, with no read-then-write window. The same
WHERE honours the erasure tombstone (`erased_at`). The set-based spelling of that statement
for each database is in candidate_sql.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, case, delete, or_, select, true
from sqlalchemy.engine import Connection

from worker.rules.email_syntax import email_syntax_valid
from worker.rules.model import Application, Candidate, EmailStatus
from worker.store.candidate_sql import (
    SnapshotRow,
    delete_credentials,
    held_credentials,
    insert_credentials,
    upsert_snapshots,
)
from worker.store.columns import from_micros, to_micros
from worker.store.credential_keys import credential_keys
from worker.store.dialect import upsert
from worker.store.schema import (
    CandidateCredentialRow,
    CandidateRow,
    OutboxRow,
    SuppressedAddressRow,
)

# Rows per upsert statement: well under SQLite's 32766 bound parameters at 15 a row.
UPSERT_CHUNK = 500
_REQUESTED_TYPE = "reengage.outreach.requested"


@dataclass(frozen=True, slots=True)
class CandidateSnapshot:
    """`ats.candidate.updated` data: the candidate as the ATS sees it, not a patch."""

    tenant_id: str
    candidate_id: str
    updated_at: datetime
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    credentials: tuple[str, ...] = ()
    location: str | None = None
    last_activity_at: datetime | None = None
    do_not_contact: bool = False
    email_status: EmailStatus = EmailStatus.UNKNOWN
    consent_expires_at: datetime | None = None
    applications: tuple[Application, ...] = ()


class UpsertOutcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # the store holds this snapshot or a newer one
    ERASED = "erased"  # the candidate was erased at or after this snapshot's updated_at


@dataclass(frozen=True, slots=True)
class Stored:
    """What became of one snapshot; `candidate` is the row it wrote, when APPLIED."""

    outcome: UpsertOutcome
    candidate: Candidate | None = None


def upsert_candidates(
    connection: Connection, snapshots: Sequence[CandidateSnapshot]
) -> list[UpsertOutcome]:
    """Apply snapshots in order; the outcome of each, in the same order."""
    return [stored.outcome for stored in store_snapshots(connection, snapshots)]


def store_snapshots(connection: Connection, snapshots: Sequence[CandidateSnapshot]) -> list[Stored]:
    """Apply snapshots in order; per snapshot, its outcome and, when applied, the candidate
    as that snapshot left it (read from the upsert itself, so no second query).

    Several snapshots of one candidate in a batch are applied one after the other (as rounds
    of at most one snapshot per candidate), exactly as if they had come in separate batches.
    """
    results: list[Stored | None] = [None] * len(snapshots)
    for round_ in _rounds(snapshots):
        for start in range(0, len(round_), UPSERT_CHUNK):
            chunk = round_[start : start + UPSERT_CHUNK]
            applied = _upsert_chunk(connection, [snapshots[i] for i in chunk])
            for index in chunk:
                snapshot = snapshots[index]
                candidate = applied.get((snapshot.tenant_id, snapshot.candidate_id))
                if candidate is not None:
                    results[index] = Stored(UpsertOutcome.APPLIED, candidate)
            refused = [snapshots[i] for i in chunk if results[i] is None]
            erased = _erased_keys(connection, refused)
            for index in chunk:
                if results[index] is None:
                    snapshot = snapshots[index]
                    key = (snapshot.tenant_id, snapshot.candidate_id)
                    outcome = UpsertOutcome.ERASED if key in erased else UpsertOutcome.STALE
                    results[index] = Stored(outcome)
    return [result for result in results if result is not None]


def _rounds(snapshots: Sequence[CandidateSnapshot]) -> list[list[int]]:
    """Indexes grouped so that no round holds one candidate twice (PostgreSQL refuses to
    update a row twice in one statement), keeping each candidate's snapshots in order."""
    rounds: list[list[int]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, snapshot in enumerate(snapshots):
        key = (snapshot.tenant_id, snapshot.candidate_id)
        round_number = seen.get(key, -1) + 1
        seen[key] = round_number
        if round_number == len(rounds):
            rounds.append([])
        rounds[round_number].append(index)
    return rounds


def _row(snapshot: CandidateSnapshot) -> SnapshotRow:
    return SnapshotRow(
        snapshot.tenant_id,
        snapshot.candidate_id,
        snapshot.email,
        email_syntax_valid(snapshot.email),
        snapshot.email_status.value,
        snapshot.do_not_contact,
        _micros(snapshot.consent_expires_at),
        _micros(snapshot.last_activity_at),
        snapshot.first_name,
        snapshot.last_name,
        snapshot.location,
        json.dumps(snapshot.credentials),  # a tuple dumps as the list it is read back as
        json.dumps([_application_json(a) for a in snapshot.applications]),
        to_micros(snapshot.updated_at),
    )


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


def _upsert_chunk(
    connection: Connection, snapshots: Sequence[CandidateSnapshot]
) -> dict[tuple[str, str], Candidate]:
    """The chunk's applied candidates, as stored. Stale protection and the tombstone are in
    the statement (see candidate_sql)."""
    rows = [_row(s) for s in snapshots]
    suppressed = upsert_snapshots(connection, rows)
    applied = {
        key: _stored_candidate(snapshot, row.email_syntax_valid, suppressed[key])
        for snapshot, row in zip(snapshots, rows, strict=True)
        if (key := (row.tenant_id, row.candidate_id)) in suppressed
    }
    by_key = {(s.tenant_id, s.candidate_id): s for s in snapshots}
    _sync_credentials(connection, [by_key[key] for key in sorted(applied)])
    return applied


def _stored_candidate(
    snapshot: CandidateSnapshot, syntax_valid: bool, email_suppressed: bool
) -> Candidate:
    """The candidate an applied snapshot left in the store, without reading it back: every
    column but `email_suppressed` is the snapshot's, and timestamps read back in UTC (as
    `_candidate` returns them, so both paths give equal values that also print alike)."""
    return Candidate(
        tenant_id=snapshot.tenant_id,
        candidate_id=snapshot.candidate_id,
        email=snapshot.email,
        email_syntax_valid=syntax_valid,
        email_status=snapshot.email_status,
        email_suppressed=email_suppressed,
        do_not_contact=snapshot.do_not_contact,
        consent_expires_at=_utc(snapshot.consent_expires_at),
        last_activity_at=_utc(snapshot.last_activity_at),
        credentials=snapshot.credentials,
        updated_at=snapshot.updated_at.astimezone(UTC),
        first_name=snapshot.first_name,
        last_name=snapshot.last_name,
        applications=_applications_in_utc(snapshot.applications),
    )


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _applications_in_utc(applications: tuple[Application, ...]) -> tuple[Application, ...]:
    """The same applications with `applied_at` in UTC: as they are when the snapshot was built
    in UTC (ingest does, translate.py), else rebuilt."""
    if all(a.applied_at.tzinfo is UTC for a in applications):
        return applications
    return tuple(
        Application(a.job_id, a.job_title, a.applied_at.astimezone(UTC), a.status)
        for a in applications
    )


def _sync_credentials(connection: Connection, snapshots: Sequence[CandidateSnapshot]) -> None:
    """Make the candidates' normalised credential rows what their snapshots say, writing only
    the difference (none when the snapshot repeats the stored credentials, the usual update).

    Read after the upsert, which holds these candidates' row locks until commit (on SQLite,
    the write lock): every writer of a candidate's credentials upserts the candidate first,
    so no one can change the rows read here before this transaction ends. New candidates are
    read too: they hold no rows unless someone deleted a candidate by hand and left its rows
    behind, and then the difference clears those (skipping the read gained ~10% on
    PostgreSQL; a probe in the upsert that tells new rows without leftovers cost as much).
    """
    if not snapshots:
        return
    wanted = {
        (s.tenant_id, s.candidate_id, credential)
        for s in snapshots
        for credential in credential_keys(s.credentials)
    }
    held = held_credentials(connection, [(s.tenant_id, s.candidate_id) for s in snapshots])
    delete_credentials(connection, sorted(held - wanted))
    insert_credentials(connection, sorted(wanted - held))


def _erased_keys(
    connection: Connection, snapshots: Sequence[CandidateSnapshot]
) -> set[tuple[str, str]]:
    """Of these refused snapshots, the ones a tombstone refused (updated_at <= erased_at)."""
    erased: set[tuple[str, str]] = set()
    by_tenant: dict[str, dict[str, CandidateSnapshot]] = {}
    for snapshot in snapshots:
        by_tenant.setdefault(snapshot.tenant_id, {})[snapshot.candidate_id] = snapshot
    for tenant_id, wanted in by_tenant.items():
        rows = connection.execute(
            select(CandidateRow.candidate_id, CandidateRow.erased_at).where(
                CandidateRow.tenant_id == tenant_id,
                CandidateRow.candidate_id.in_(list(wanted)),
                CandidateRow.erased_at.is_not(None),
            )
        )
        for candidate_id, erased_at in rows:
            if erased_at is not None and wanted[candidate_id].updated_at <= erased_at:
                erased.add((tenant_id, candidate_id))
    return erased


def erase_candidate(
    connection: Connection, tenant_id: str, candidate_id: str, erased_at: datetime
) -> None:
    """Delete the candidate's personal data and leave a tombstone.

    Erasure always scrubs, whatever the stored snapshot's age: an erasure request is not
    something to second-guess. The tombstone (`erased_at`, the latest one) makes any snapshot
    with `updated_at <= erased_at` stale. The candidate's credential rows and reported
    addresses go, and their outreach requests are deleted from the outbox, published or not
    (they carry the address and names); the caller cancels the pending outreach itself, which
    publishes a cancellation without personal data.
    """
    insert = upsert(connection, CandidateRow).values(
        tenant_id=tenant_id,
        candidate_id=candidate_id,
        email=None,
        email_syntax_valid=False,
        email_status=EmailStatus.UNKNOWN.value,
        email_suppressed=False,
        do_not_contact=False,
        credentials=[],
        applications=[],
        updated_at=erased_at,
        erased_at=erased_at,
    )
    statement = insert.on_conflict_do_update(
        index_elements=[CandidateRow.tenant_id, CandidateRow.candidate_id],
        set_={
            "email": None,
            "email_syntax_valid": False,
            "first_name": None,
            "last_name": None,
            "location": None,
            "credentials": [],
            "applications": [],
            "erased_at": _tombstone_time(insert.excluded.erased_at),
        },
    )
    connection.execute(statement)
    for personal in (CandidateCredentialRow, SuppressedAddressRow):
        connection.execute(
            delete(personal).where(
                personal.tenant_id == tenant_id, personal.candidate_id == candidate_id
            )
        )
    _delete_requests(connection, tenant_id, candidate_id)


def _tombstone_time(erased_at: ColumnElement[datetime]) -> ColumnElement[datetime]:
    """The latest of the stored tombstone, this erasure, and the stored snapshot's version.

    An erasure older than the snapshot it scrubs (processed late) still scrubs it: the
    tombstone then takes the snapshot's `updated_at`, so `updated_at <= erased_at` holds for
    every scrubbed row and `in_pool()` leaves it out. Staleness is unchanged by that: a
    snapshot had to be newer than the stored `updated_at` already.
    """
    latest_erasure = case(
        (
            or_(CandidateRow.erased_at.is_(None), CandidateRow.erased_at < erased_at),
            erased_at,
        ),
        else_=CandidateRow.erased_at,
    )
    return case(
        (CandidateRow.updated_at > latest_erasure, CandidateRow.updated_at),
        else_=latest_erasure,
    )


def _delete_requests(connection: Connection, tenant_id: str, candidate_id: str) -> None:
    """Outreach requests in the outbox carry the address and names. Unpublished ones must go
    (the contract); published ones go too: the relay keeps them a day only for operators, and
    personal data is not to stay in the store after an erasure."""
    # Outbox rows carry the recommended key `{tenant_id}:{candidate_id}` (tenant ids hold no
    # colon, so the key is unambiguous).
    rows = connection.execute(
        select(OutboxRow.id, OutboxRow.payload).where(
            OutboxRow.key == f"{tenant_id}:{candidate_id}"
        )
    ).all()
    doomed = [row.id for row in rows if _event_type(row.payload) == _REQUESTED_TYPE]
    if doomed:
        connection.execute(delete(OutboxRow).where(OutboxRow.id.in_(doomed)))


def _event_type(payload: str) -> str | None:
    try:
        envelope = json.loads(payload)
    except ValueError:
        return None
    kind = envelope.get("type") if isinstance(envelope, dict) else None
    return kind if isinstance(kind, str) else None


def in_pool() -> ColumnElement[bool]:
    """Not a tombstone: never erased, or given a snapshot since (one newer than the erasure).
    An erased candidate is no longer in the pool: preview and the status page do not count
    it, nor explain it as a candidate without an address."""
    return or_(CandidateRow.erased_at.is_(None), CandidateRow.updated_at > CandidateRow.erased_at)


def load_candidates(
    connection: Connection,
    tenant_id: str,
    candidate_ids: Iterable[str],
    *,
    pool_only: bool = False,
) -> dict[str, Candidate]:
    """The named candidates of one tenant, as the rules see them (missing ones left out, and
    with `pool_only` erased ones too; without it a tombstone reads as a scrubbed candidate)."""
    wanted = sorted(set(candidate_ids))
    found: dict[str, Candidate] = {}
    for start in range(0, len(wanted), UPSERT_CHUNK):
        rows = connection.execute(
            _candidate_select().where(
                CandidateRow.tenant_id == tenant_id,
                CandidateRow.candidate_id.in_(wanted[start : start + UPSERT_CHUNK]),
                in_pool() if pool_only else true(),
            )
        )
        for row in rows:
            candidate = _candidate(row._mapping)
            found[candidate.candidate_id] = candidate
    return found


def stream_candidates(connection: Connection, tenant_id: str) -> Iterator[Candidate]:
    """Every candidate of the tenant's pool, in id order, fetched in batches (for `preview`'s
    per-rule counts, which need each candidate once and keep none)."""
    statement = (
        _candidate_select()
        .where(CandidateRow.tenant_id == tenant_id, in_pool())
        .order_by(CandidateRow.candidate_id)
        .execution_options(yield_per=1000)
    )
    for row in connection.execute(statement):
        yield _candidate(row._mapping)


def _candidate_select() -> Any:
    return select(
        CandidateRow.tenant_id,
        CandidateRow.candidate_id,
        CandidateRow.email,
        CandidateRow.email_syntax_valid,
        CandidateRow.email_status,
        CandidateRow.email_suppressed,
        CandidateRow.do_not_contact,
        CandidateRow.consent_expires_at,
        CandidateRow.last_activity_at,
        CandidateRow.credentials,
        CandidateRow.updated_at,
        CandidateRow.first_name,
        CandidateRow.last_name,
        CandidateRow.applications,
    )


def _candidate(row: Any) -> Candidate:
    return Candidate(
        tenant_id=row["tenant_id"],
        candidate_id=row["candidate_id"],
        email=row["email"],
        email_syntax_valid=bool(row["email_syntax_valid"]),
        email_status=EmailStatus(row["email_status"]),
        email_suppressed=bool(row["email_suppressed"]),
        do_not_contact=bool(row["do_not_contact"]),
        consent_expires_at=row["consent_expires_at"],
        last_activity_at=row["last_activity_at"],
        credentials=tuple(row["credentials"]),
        updated_at=row["updated_at"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        applications=tuple(_application(a) for a in row["applications"]),
    )


def _application_json(application: Application) -> dict[str, Any]:
    return {
        "job_id": application.job_id,
        "job_title": application.job_title,
        "applied_at": to_micros(application.applied_at),
        "status": application.status,
    }


def _application(data: dict[str, Any]) -> Application:
    return Application(
        job_id=data["job_id"],
        job_title=data["job_title"],
        applied_at=from_micros(int(data["applied_at"])),
        status=data.get("status"),
    )
