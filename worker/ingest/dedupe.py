"""The processed-events marker: an event (source, id) already applied has no further effect.

Markers would grow with every event ever applied. A candidate snapshot's marker expires: its
handler already ignores a snapshot no newer than the stored one, so once the marker is gone a
redelivered snapshot is `stale` instead of `duplicate` and decides nothing either way. The
other events' handlers are not idempotent by event time (a job opened again is matched again,
an old bounce would suppress the current address, an erasure scrubs what came after it), and
they are few: their markers are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.engine import Connection

from worker.store.bounded_keys import bounded_key
from worker.store.columns import to_micros
from worker.store.dialect import is_postgresql
from worker.store.schema import ProcessedEventRow

EventKey = tuple[str, str]
# Events whose markers expire (the module docstring says why only these).
EXPIRING_TYPES = frozenset({"ats.candidate.updated"})
# An event's key and when its marker may be deleted (None: never).
Claim = tuple[EventKey, datetime | None]
# Per part of the marker's key: the two together stay well inside a B-tree entry (~2.7 KB).
_MAX_PLAIN_BYTES = 512
# Rows per SQLite statement: four bound parameters each, well under its 32766.
_SQLITE_CHUNK = 500

_POSTGRESQL_CLAIM = """
INSERT INTO processed_events (source, event_id, processed_at, expires_at)
SELECT source, event_id, %s, expires_at
FROM unnest(%b::text[], %b::text[], %b::int8[]) AS k(source, event_id, expires_at)
ON CONFLICT DO NOTHING
RETURNING source, event_id
"""
_SQLITE_CLAIM = (
    "INSERT INTO processed_events (source, event_id, processed_at, expires_at) VALUES {rows} "
)
_SQLITE_RETURNING = "ON CONFLICT DO NOTHING RETURNING source, event_id"


def claim_unprocessed(
    connection: Connection, claims: Sequence[Claim], at: datetime
) -> set[EventKey]:
    """Write the processed marker of every key not marked yet, in the batch's transaction;
    the keys this call marked. One statement: a key marked by an earlier batch is not
    returned, and neither is a repeat (a key holds one marker, claimed once; kept for good if
    any of its claims says so).

    If another consumer's open transaction has claimed a key (a rebalance overlap), the
    insert waits for it: once that commits, the key is already processed here; if it rolls
    back, the key is ours. Keys are claimed in sorted order, so two overlapping batches
    wait for each other in one direction only and cannot deadlock on markers.
    """
    stored: dict[EventKey, EventKey] = {}
    expiries: dict[EventKey, int | None] = {}
    micros_of: dict[datetime, int] = {}  # a batch's claims share one or two expiry times
    for key, expires_at in claims:
        marker = _stored(key)
        stored[marker] = key
        expiry = None
        if expires_at is not None:
            expiry = micros_of.get(expires_at)
            if expiry is None:
                expiry = micros_of[expires_at] = to_micros(expires_at)
        previous = expiries.get(marker, expiry)
        expiries[marker] = None if previous is None or expiry is None else max(previous, expiry)
    ordered = sorted(stored)
    if not ordered:
        return set()
    micros = to_micros(at)
    if is_postgresql(connection):
        rows = connection.exec_driver_sql(
            _POSTGRESQL_CLAIM,
            (
                micros,
                [source for source, _ in ordered],
                [event_id for _, event_id in ordered],
                [expiries[marker] for marker in ordered],
            ),
        )
        return {stored[(source, event_id)] for source, event_id in rows}
    claimed: set[EventKey] = set()
    for start in range(0, len(ordered), _SQLITE_CHUNK):
        chunk = ordered[start : start + _SQLITE_CHUNK]
        statement = _SQLITE_CLAIM.format(rows=", ".join("(?, ?, ?, ?)" for _ in chunk))
        rows = connection.exec_driver_sql(
            statement + _SQLITE_RETURNING,
            tuple(
                value
                for marker in chunk
                for value in (marker[0], marker[1], micros, expiries[marker])
            ),
        )
        claimed.update(stored[(source, event_id)] for source, event_id in rows)
    return claimed


def delete_expired_markers(connection: Connection, now: datetime, limit: int) -> int:
    """Delete up to `limit` markers that expired before `now`, oldest first; how many."""
    doomed = (
        select(ProcessedEventRow.source, ProcessedEventRow.event_id)
        .where(ProcessedEventRow.expires_at.is_not(None), ProcessedEventRow.expires_at < now)
        .order_by(ProcessedEventRow.expires_at)
        .limit(limit)
        # Two workers purging at once take different rows instead of waiting on (or
        # deadlocking over) each other's. SQLite has no row locks: its writer lock serialises.
        .with_for_update(skip_locked=True)
    )
    statement = delete(ProcessedEventRow).where(
        tuple_(ProcessedEventRow.source, ProcessedEventRow.event_id).in_(doomed)
    )
    return int(connection.execute(statement).rowcount)


def _stored(key: EventKey) -> EventKey:
    """As the marker table holds it: a `source` or `id` too long for PostgreSQL's primary key
    index (both may be 4 bytes a character) is kept as its digest."""
    source, event_id = key
    return (bounded_key(source, _MAX_PLAIN_BYTES), bounded_key(event_id, _MAX_PLAIN_BYTES))
