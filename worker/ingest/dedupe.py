"""The processed-events marker: an event (source, id) already applied has no further effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from worker.store.bounded_keys import bounded_key
from worker.store.columns import to_micros
from worker.store.dialect import is_postgresql

EventKey = tuple[str, str]
# Per part of the marker's key: the two together stay well inside a B-tree entry (~2.7 KB).
_MAX_PLAIN_BYTES = 512
# Rows per SQLite statement: three bound parameters each, well under its 32766.
_SQLITE_CHUNK = 500

_POSTGRESQL_CLAIM = """
INSERT INTO processed_events (source, event_id, processed_at)
SELECT source, event_id, %s FROM unnest(%b::text[], %b::text[]) AS k(source, event_id)
ON CONFLICT DO NOTHING
RETURNING source, event_id
"""
_SQLITE_CLAIM = "INSERT INTO processed_events (source, event_id, processed_at) VALUES {rows} "
_SQLITE_RETURNING = "ON CONFLICT DO NOTHING RETURNING source, event_id"


def claim_unprocessed(
    connection: Connection, keys: Sequence[EventKey], at: datetime
) -> set[EventKey]:
    """Write the processed marker of every key not marked yet, in the batch's transaction;
    the keys this call marked. One statement: a key marked by an earlier batch is not
    returned, and neither is a repeat (a key holds one marker, claimed once).

    If another consumer's open transaction has claimed a key (a rebalance overlap), the
    insert waits for it: once that commits, the key is already processed here; if it rolls
    back, the key is ours. Keys are claimed in sorted order, so two overlapping batches
    wait for each other in one direction only and cannot deadlock on markers.
    """
    stored = {_stored(key): key for key in set(keys)}
    ordered = sorted(stored)
    if not ordered:
        return set()
    micros = to_micros(at)
    if is_postgresql(connection):
        rows = connection.exec_driver_sql(
            _POSTGRESQL_CLAIM,
            (micros, [source for source, _ in ordered], [event_id for _, event_id in ordered]),
        )
        return {stored[(source, event_id)] for source, event_id in rows}
    claimed: set[EventKey] = set()
    for start in range(0, len(ordered), _SQLITE_CHUNK):
        chunk = ordered[start : start + _SQLITE_CHUNK]
        statement = _SQLITE_CLAIM.format(rows=", ".join("(?, ?, ?)" for _ in chunk))
        rows = connection.exec_driver_sql(
            statement + _SQLITE_RETURNING,
            tuple(value for source, event_id in chunk for value in (source, event_id, micros)),
        )
        claimed.update(stored[(source, event_id)] for source, event_id in rows)
    return claimed


def _stored(key: EventKey) -> EventKey:
    """As the marker table holds it: a `source` or `id` too long for PostgreSQL's primary key
    index (both may be 4 bytes a character) is kept as its digest."""
    source, event_id = key
    return (bounded_key(source, _MAX_PLAIN_BYTES), bounded_key(event_id, _MAX_PLAIN_BYTES))
