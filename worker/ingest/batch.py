"""Applying one consumed batch in one transaction: effects, processed markers, outbox rows.

The caller commits the transaction, then the offsets. A crash in between re-delivers the
batch; its events are then found in `processed_events` and have no further effect. The
events are applied partition by partition merged by event time (ordering.py); outcomes come
back in the batch's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from worker.contracts.catalogue import WORKER_TYPES
from worker.contracts.envelope import (
    AnyEvent,
    CandidateErasedEvent,
    CandidateUpdatedEvent,
    JobClosedEvent,
    JobOpenedEvent,
    OutreachFailedEvent,
    OutreachSentEvent,
)
from worker.ingest import candidates, jobs, status
from worker.ingest.context import Effects, HandlerContext, IngestConfig, Origin
from worker.ingest.dedupe import EXPIRING_TYPES, EventKey, claim_unprocessed
from worker.ingest.ordering import event_moment, event_time_order
from worker.kafka.records import Record
from worker.runtime.metrics import Outcome

# On any of the worker's three topics (catalogue.WORKER_TYPES says why).
HANDLED_TYPES = WORKER_TYPES


@dataclass(frozen=True, slots=True)
class Incoming:
    record: Record
    event: AnyEvent

    @property
    def key(self) -> EventKey:
        return (self.event.source, self.event.id)

    @property
    def origin(self) -> Origin:
        return Origin(self.record.topic, self.record.partition, self.record.offset, self.event.id)


@dataclass(slots=True)
class BatchReport:
    items: list[Incoming] = field(default_factory=list)  # what was applied, in order
    outcomes: list[str] = field(default_factory=list)  # one per item
    effects: Effects = field(default_factory=Effects)


def apply_batch(
    connection: Connection, batch: Sequence[Incoming], config: IngestConfig
) -> BatchReport:
    ctx = HandlerContext(connection, config, written_at=datetime.now(UTC))
    # Markers first, in one statement: an event whose marker exists already is a duplicate.
    retention = config.dedupe_retention
    expiry = None if retention is None else ctx.written_at + retention
    claimed = claim_unprocessed(
        connection,
        [(item.key, expiry if item.event.type in EXPIRING_TYPES else None) for item in batch],
        ctx.written_at,
    )
    outcomes: list[str | None] = [None] * len(batch)
    fresh: list[int] = []
    for index in application_order(batch):
        item = batch[index]
        if item.key in claimed:
            claimed.discard(item.key)  # a repeat inside this batch is a duplicate
            fresh.append(index)
        else:
            outcomes[index] = Outcome.DUPLICATE

    position = 0
    while position < len(fresh):
        item = batch[fresh[position]]
        if isinstance(item.event, CandidateUpdatedEvent):
            end = position
            while end < len(fresh) and isinstance(batch[fresh[end]].event, CandidateUpdatedEvent):
                end += 1
            _candidate_updates(ctx, batch, fresh[position:end], outcomes)
            position = end
            continue
        ctx.origin = item.origin
        outcomes[fresh[position]] = _apply_one(ctx, item)
        position += 1

    return BatchReport(list(batch), [o or Outcome.PROCESSED for o in outcomes], ctx.effects)


def application_order(batch: Sequence[Incoming]) -> list[int]:
    """Indexes into `batch` in the order its events are applied (ordering.py)."""
    return event_time_order(
        [item.record for item in batch],
        [item.event for item in batch],
        lambda index: _event_time(batch[index]),
    )


def _candidate_updates(
    ctx: HandlerContext, batch: Sequence[Incoming], indexes: list[int], outcomes: list[str | None]
) -> None:
    updates = []
    for index in indexes:
        event = batch[index].event
        assert isinstance(event, CandidateUpdatedEvent)
        updates.append((index, event.data))
    cursor = 0
    for run in candidates.split_into_runs([data for _, data in updates]):
        origins = [batch[index].origin for index, _ in updates[cursor : cursor + len(run)]]
        applied = candidates.candidates_updated(ctx, run, origins)
        for was_applied in applied:
            index = updates[cursor][0]
            outcomes[index] = Outcome.PROCESSED if was_applied else Outcome.STALE
            cursor += 1


def _apply_one(ctx: HandlerContext, item: Incoming) -> str:
    event = item.event
    match event:
        case JobOpenedEvent():
            return Outcome.PROCESSED if jobs.job_opened(ctx, event.data) else Outcome.STALE
        case JobClosedEvent():
            jobs.job_closed(ctx, event.data)
        case CandidateErasedEvent():
            candidates.candidate_erased(ctx, event.data)
        case OutreachSentEvent():
            status.outreach_sent(ctx, event.data)
        case OutreachFailedEvent():
            status.outreach_failed(ctx, event.data, _event_time(item))
        case _:
            raise TypeError(f"no handler for {event.type}")  # HANDLED_TYPES and this disagree
    return Outcome.PROCESSED


def moment_of(item: Incoming) -> datetime:
    """Where the event stands in event time: its contract time, else its envelope's."""
    own = event_moment(item.event)
    return _event_time(item) if own is None else own


def _event_time(item: Incoming) -> datetime:
    """The envelope's `time`, else the record's broker timestamp: both replay identically."""
    if item.event.time is not None:
        return item.event.time
    return datetime.fromtimestamp(max(item.record.timestamp_ms, 0) / 1000, tz=UTC)
