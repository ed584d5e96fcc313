"""The processed-events marker: an event (source, id) already applied has no further effect."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from worker.store.schema import ProcessedEventRow

EventKey = tuple[str, str]
_CHUNK = 400


def already_processed(connection: Connection, keys: Iterable[EventKey]) -> set[EventKey]:
    # One query per source with `event_id IN (...)`, not one `(source, event_id) IN (...)`:
    # PostgreSQL plans the row-value list as an index scan on `source` alone plus an OR filter,
    # and most events share one source, so every batch would scan the whole marker history.
    by_source: dict[str, list[str]] = {}
    for source, event_id in sorted(set(keys)):
        by_source.setdefault(source, []).append(event_id)
    found: set[EventKey] = set()
    for source, event_ids in by_source.items():
        for start in range(0, len(event_ids), _CHUNK):
            rows = connection.execute(
                select(ProcessedEventRow.event_id).where(
                    ProcessedEventRow.source == source,
                    ProcessedEventRow.event_id.in_(event_ids[start : start + _CHUNK]),
                )
            )
            found.update((source, event_id) for event_id in rows.scalars())
    return found


def mark_processed(connection: Connection, keys: Sequence[EventKey], at: datetime) -> None:
    """Inserted in the batch's transaction: if two consumers raced on one event, the second
    commit fails on the primary key and its whole batch is retried, then seen as duplicate."""
    if keys:
        connection.execute(
            insert(ProcessedEventRow),
            [{"source": s, "event_id": i, "processed_at": at} for s, i in keys],
        )
