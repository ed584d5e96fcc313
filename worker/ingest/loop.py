"""The consume loop: poll a batch, decode at the edge, dead-letter the invalid, apply the rest
in one transaction, commit the transaction, then commit the offsets.

Transient failures (database or broker down) are retried in place with the partitions paused
and the consumer still polling, so the group keeps this member. Nothing is committed until the
batch's effects are; the process exits non-zero only once the retry budget is spent.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from worker.contracts.decode import Decoded, Invalid, Skipped, decode
from worker.contracts.envelope import JobOpenedEvent
from worker.errors import FatalError, ReengageError, TransientError
from worker.ingest.batch import (
    HANDLED_TYPES,
    BatchReport,
    Incoming,
    application_order,
    apply_batch,
    moment_of,
)
from worker.ingest.context import Decision, EmptyWindow, IngestConfig, Origin
from worker.ingest.dedupe import delete_expired_markers
from worker.ingest.group_order import GroupOrder, held_back_by
from worker.ingest.holding import EventTimeMerge, Held
from worker.kafka.consumer import BatchConsumer, UnreadableRecordError
from worker.kafka.dead_letters import (
    DeadLetter,
    DeadLetterBudget,
    DeadLetterQueue,
    publish_counts,
)
from worker.kafka.records import Position, Record, without_partitions
from worker.logs import get_logger
from worker.runtime.faults import crash_point, hold_point
from worker.runtime.metrics import (
    BATCH_SECONDS,
    OUTREACH_CANCELLED,
    OUTREACH_REQUESTED,
)
from worker.runtime.retry import retry_transient
from worker.runtime.shutdown import Shutdown
from worker.store.engine import in_transaction, refusal_of_every_statement

log = get_logger("reengage.worker")

# Integrity conflicts in a row that are still taken for a race with another consumer.
_MAX_CONFLICT_RETRIES = 3

_POLL_TIMEOUT_S = 0.5
# A poll's timeout is whole milliseconds: a grace ending sooner is still waited for.
_MIN_POLL_TIMEOUT_S = 0.001
# Polled records wait for the other partitions (holding.py) at most this long, and at most
# this many batches of them: beyond, a partition slow to answer no longer holds the rest up.
_MAX_HOLD_S = 1.0
_MAX_HELD_BATCHES = 20
# Expired processed markers are deleted this many at a time (one short transaction), once a
# minute, or after every batch while a whole chunk keeps expiring.
_MARKER_PURGE_CHUNK = 10_000
_MARKER_PURGE_INTERVAL_S = 60.0
# How long the purge waits for another transaction's lock (SQLite: the writer lock, held by
# another worker's batch) before giving up until the next turn: a SIGTERM must not wait on it.
_MARKER_PURGE_LOCK_WAIT_MS = 2_000
_T = TypeVar("_T")


class ShutdownDuringRetryError(ReengageError):
    """Asked to stop while waiting to retry: abandon the (uncommitted) batch."""


@dataclass(frozen=True, slots=True)
class _Classified:
    incoming: list[Incoming]
    dead: list[DeadLetter]
    skipped: list[tuple[Record, str]]


# What a record turned out to be: an event to apply, a dead letter, or a skipped type.
_Kind = Incoming | DeadLetter | tuple[Record, str]


def classify_records(records: Sequence[Record]) -> _Classified:
    """Each record decoded and put with its kind (applied, dead-lettered, skipped), in the
    order consumed; the order events are applied in is ordering.py's."""
    return _classified([_kind_of(record) for record in records])


def _kind_of(record: Record) -> _Kind:
    match decode(record.value, HANDLED_TYPES):
        case Decoded(event=event):
            return Incoming(record, event)
        case Invalid(error_class=error_class, reason=reason, event_type=event_type):
            return DeadLetter(record, error_class, reason, event_type)
        case Skipped(event_type=event_type):
            return (record, event_type)
    raise AssertionError("decode returns Decoded, Invalid or Skipped")


def _held(record: Record) -> Held[_Kind]:
    kind = _kind_of(record)
    return Held(record, kind, moment_of(kind) if isinstance(kind, Incoming) else None)


def _classified(kinds: Sequence[_Kind]) -> _Classified:
    classified = _Classified([], [], [])
    for kind in kinds:
        if isinstance(kind, Incoming):
            classified.incoming.append(kind)
        elif isinstance(kind, DeadLetter):
            classified.dead.append(kind)
        else:
            classified.skipped.append(kind)
    return classified


class IngestLoop:
    def __init__(
        self,
        *,
        engine: Engine,
        consumer: BatchConsumer,
        dead_letters: DeadLetterQueue,
        budget: DeadLetterBudget,
        config: IngestConfig,
        shutdown: Shutdown,
        retry_budget_s: float,
        after_commit: Callable[[], None] = lambda: None,
        batch_limit: int = 500,
        group_order: GroupOrder | None = None,
        order_grace_s: float = 0.0,
    ) -> None:
        self._engine = engine
        self._consumer = consumer
        self._dead_letters = dead_letters
        self._budget = budget
        self._config = config
        self._shutdown = shutdown
        self._retry_budget_s = retry_budget_s
        self._after_commit = after_commit
        self._in_hand: list[Record] = []
        self._batch_limit = batch_limit
        self._held: EventTimeMerge[_Kind] = EventTimeMerge(
            max_held=_MAX_HELD_BATCHES * batch_limit, max_hold_s=_MAX_HOLD_S, grace_s=order_grace_s
        )
        self._conflicts = 0
        self._marker_purge_due = time.monotonic()
        self._order = group_order
        # Per partition, the latest event time applied: what this worker tells the group.
        self._last_applied: dict[Position, datetime] = {}
        self._paused_some = False

    def run(self) -> None:
        """Until shutdown is requested; the batch in hand is always finished first."""
        more_ready = False
        while not self._shutdown.requested:
            try:
                records = self._poll(0 if more_ready else self._poll_timeout())
            except UnreadableRecordError as error:
                # Its advice (move one record past it) holds only once every record before
                # it is applied and committed: held ones would be skipped in its place.
                self._apply_everything_held()
                if len(self._held):  # a shutdown came first: restart instead
                    raise error.with_records_before_it_unprocessed() from None
                raise
            self._drop_gone_partitions()  # before this poll's records join the held ones
            if records:
                # A batch may take many seconds; its records are behind until committed.
                self._consumer.update_lag()
                self._held.add(_held(record) for record in records)
            batch = self._held.release(
                self._batch_limit, self._consumer.may_have_more(), self._may_release
            )
            more_ready = len(batch) == self._batch_limit
            if batch:
                try:
                    self._process(batch)
                except ShutdownDuringRetryError:
                    log.info("shutdown while retrying: batch left uncommitted for the next run")
                    return
            # After every poll, not only idle ones: a backlog is when the gauge matters.
            self._consumer.update_lag()
            self._purge_expired_markers()
            self._publish_progress()

    def _poll_timeout(self) -> float:
        """Held records waiting out their grace are due before an idle poll would return."""
        grace_left = self._held.grace_left()
        if grace_left is None:
            return _POLL_TIMEOUT_S
        return min(max(grace_left, _MIN_POLL_TIMEOUT_S), _POLL_TIMEOUT_S)

    def _publish_progress(self) -> None:
        if self._order is not None:
            self._order.publish(self._held.heads(), self._last_applied)

    def _poll(self, timeout_s: float) -> list[Record]:
        """The next records, not fetching from the partitions `_held_back` names (chosen
        again at every poll: a partition whose held records went out is fetched again, or
        the merge would stop waiting for its next record)."""
        held_back = self._held_back()
        if held_back:
            self._consumer.resume()
            self._consumer.pause_only(held_back)
            self._paused_some = True
        elif self._paused_some:
            self._consumer.resume()
            self._paused_some = False
        return self._consumer.poll(timeout_s)

    def _held_back(self) -> set[Position]:
        """Partitions not to fetch from while half the merge's bound is held, so that a wait
        does not make it overdue (which would stop it waiting for anything):
        - a job waits for the group: the partitions whose held records all come after it;
          the others are fetched, so they can tell the group how far they are (and a circle
          of waits cannot form through them);
        - the first records wait out their grace (a backlog's first polls fill the merge
          faster than that): the partitions holding records; the others are fetched, as the
          grace is there for an earlier record they may still show."""
        if len(self._held) < _MAX_HELD_BATCHES * self._batch_limit // 2:
            return set()
        job = None if self._order is None else self._order.waiting_at
        if job is not None:
            return held_back_by(job, self._held.heads())
        return set(self._held.heads()) if self._held.grace_left() else set()

    def _may_release(self, held: Held[_Kind]) -> bool:
        """A job's opening waits until the group's other partitions are past it
        (group_order.py); everything else goes in merge order."""
        item = held.item
        if (
            self._order is None
            or held.time is None
            or not isinstance(item, Incoming)
            or not isinstance(item.event, JobOpenedEvent)
        ):
            return True
        return self._order.allows(held.record, held.time, self._held.heads())

    def _apply_everything_held(self) -> None:
        self._drop_gone_partitions()
        while len(self._held) and not self._shutdown.requested:
            batch = self._held.release(self._batch_limit, (), self._may_release)
            if batch:
                self._process(batch)
                continue
            # A job waits for the group (at most its bound): wait here, in the group.
            self._consumer.poll_paused(_POLL_TIMEOUT_S)
            self._drop_gone_partitions()
            self._publish_progress()
        self._consumer.resume()

    def _process(self, batch: Sequence[Held[_Kind]]) -> None:
        started = time.perf_counter()
        records = [held.record for held in batch]
        self._in_hand = records
        classified = _classified([held.item for held in batch])
        if classified.dead:
            failed_at = datetime.now(UTC)
            self._retry(lambda: self._dead_letters.publish(self._owned(classified.dead), failed_at))
        hold_point("worker-before-apply", until=lambda: self._shutdown.requested)
        try:
            report = self._retry(lambda: self._apply(self._owned_incoming(classified.incoming)))
        except (ReengageError, KeyboardInterrupt):
            raise
        except Exception as exc:
            _stop_if_the_store_refuses_every_statement(exc)
            # A valid event that a handler cannot process (a bug, or data the store refuses)
            # must not stop the partition for good: isolate it and dead-letter it alone.
            # The class only: exception texts may quote the batch's data.
            log.error(
                "batch failed; applying its events one by one", error_class=type(exc).__name__
            )
            report, failed = self._apply_one_by_one(self._owned_incoming(classified.incoming))
            classified = _Classified(
                [i for i in classified.incoming if i.record not in failed],
                classified.dead + list(failed.values()),
                classified.skipped,
            )
            letters = list(failed.values())
            if letters:
                failed_at = datetime.now(UTC)
                self._retry(lambda: self._dead_letters.publish(self._owned(letters), failed_at))
        crash_point("worker-after-db-commit")
        applied = self._commit_offsets()
        for held in batch:
            if held.time is not None and held.record.position in applied:
                position = held.record.position
                latest = self._last_applied.get(position)
                if latest is None or held.time > latest:
                    self._last_applied[position] = held.time
        self._count(classified, report)
        self._budget.record_batch(records, [letter.record for letter in classified.dead])
        self._after_commit()
        BATCH_SECONDS.observe(time.perf_counter() - started)

    def _purge_expired_markers(self) -> None:
        """Between batches, never inside one. Expiry is bookkeeping by the wall clock, like
        the outbox's retention: no decision reads it. A failure waits for the next turn;
        the markers only wait a little longer."""
        if self._shutdown.requested or time.monotonic() < self._marker_purge_due:
            return
        try:
            deleted = in_transaction(
                self._engine,
                lambda connection: delete_expired_markers(
                    connection, datetime.now(UTC), _MARKER_PURGE_CHUNK
                ),
                lock_wait_ms=_MARKER_PURGE_LOCK_WAIT_MS,
            )
        except (SQLAlchemyError, TransientError) as exc:
            log.warning("expired markers not deleted", error_class=type(exc).__name__)
            deleted = 0
        behind = deleted >= _MARKER_PURGE_CHUNK
        self._marker_purge_due = time.monotonic() + (0.0 if behind else _MARKER_PURGE_INTERVAL_S)
        if deleted:
            log.debug("expired markers deleted", markers=deleted)

    def _apply(self, incoming: Sequence[Incoming]) -> BatchReport:
        if not incoming:
            return BatchReport()
        try:
            report = in_transaction(
                self._engine, lambda connection: apply_batch(connection, incoming, self._config)
            )
            self._conflicts = 0
            return report
        except IntegrityError as exc:
            # Another consumer committed the same outreach claim first (a rebalance overlap):
            # run the batch again and it will see that work as done. (Processed markers never
            # get here: a marker another transaction holds is waited for, then a duplicate.)
            # A race settles at once; the same conflict again and again is the data's own,
            # and is left to the event-by-event fallback.
            self._conflicts += 1
            if self._conflicts > _MAX_CONFLICT_RETRIES:
                self._conflicts = 0
                raise
            raise TransientError("a concurrent consumer applied part of this batch") from exc

    def _apply_one_by_one(
        self, incoming: Sequence[Incoming]
    ) -> tuple[BatchReport, dict[Record, DeadLetter]]:
        """Each event in a transaction of its own; the ones that still fail (not transiently)
        become dead letters naming the exception class (never its message: it may quote
        personal data)."""
        merged = BatchReport()
        failed: dict[Record, DeadLetter] = {}
        for item in (incoming[index] for index in application_order(incoming)):
            try:
                single = self._retry(lambda item=item: self._apply([item]))  # type: ignore[misc]
            except (ReengageError, KeyboardInterrupt):
                raise
            except Exception as exc:
                _stop_if_the_store_refuses_every_statement(exc)
                reason = f"{type(exc).__name__} while applying {item.event.type}"
                failed[item.record] = DeadLetter(
                    item.record, "processing_failed", reason, item.event.type
                )
                log.warning(
                    "event could not be applied",
                    topic=item.record.topic,
                    partition=item.record.partition,
                    offset=item.record.offset,
                    event_id=item.event.id,
                    error_class=type(exc).__name__,
                )
                continue
            merged.items += single.items
            merged.outcomes += single.outcomes
            merged.effects.requested += single.effects.requested
            merged.effects.cancelled.update(single.effects.cancelled)
            merged.effects.decisions += single.effects.decisions
            merged.effects.empty_windows += single.effects.empty_windows
        return merged, failed

    def _commit_offsets(self) -> set[Position]:
        """Commit the batch in hand; the partitions it still held (not revoked meanwhile)."""
        self._drop_gone_partitions()
        # Refused by a rebalance: the next owner re-delivers, the processed markers make the
        # events no-ops. A coordinator briefly away is retried like any transient failure.
        self._retry(lambda: self._consumer.commit(self._in_hand))
        applied = {record.position for record in self._in_hand}
        self._in_hand = []
        return applied

    def _retry(self, attempt: Callable[[], _T]) -> _T:
        return retry_transient(
            attempt, budget_s=self._retry_budget_s, idle=self._idle, what="apply batch"
        )

    def _idle(self, seconds: float) -> None:
        """Wait between attempts while staying in the group: poll with everything paused."""
        deadline = time.monotonic() + seconds
        if self._shutdown.requested:
            raise ShutdownDuringRetryError
        # The batch in hand is not done: the lag gauge must show it, and what piles up behind.
        self._consumer.update_lag(ask_broker=True)
        while True:
            if self._shutdown.requested:
                raise ShutdownDuringRetryError
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._consumer.poll_paused(min(remaining, _POLL_TIMEOUT_S))
            self._drop_gone_partitions()
        self._consumer.resume()

    def _drop_gone_partitions(self) -> None:
        gone = self._consumer.partitions_gone()
        if gone:
            self._in_hand = without_partitions(self._in_hand, gone)
            self._held.drop(gone)
            for position in gone:
                self._last_applied.pop(position, None)
            if self._order is not None:
                self._order.forget(gone)

    def _owned(self, dead: list[DeadLetter]) -> list[DeadLetter]:
        owned = {(r.topic, r.partition, r.offset) for r in self._in_hand}
        return [d for d in dead if (d.record.topic, d.record.partition, d.record.offset) in owned]

    def _owned_incoming(self, incoming: list[Incoming]) -> list[Incoming]:
        owned = {(r.topic, r.partition, r.offset) for r in self._in_hand}
        return [
            i for i in incoming if (i.record.topic, i.record.partition, i.record.offset) in owned
        ]

    def _count(self, classified: _Classified, report: BatchReport) -> None:
        counts: Counter[tuple[str, str, str]] = Counter()
        # The report's own items: partitions revoked during a retry left some of the batch
        # unapplied, and counting those would mislabel the rest.
        for item, outcome in zip(report.items, report.outcomes, strict=True):
            counts[(item.record.topic, item.event.type, outcome)] += 1
        publish_counts(counts, classified.dead, classified.skipped)
        OUTREACH_REQUESTED.inc(report.effects.requested)
        for reason, n in report.effects.cancelled.items():
            OUTREACH_CANCELLED.labels(reason).inc(n)
        if report.effects.requested or report.effects.cancelled or classified.dead:
            log.info(
                "batch applied",
                records=len(classified.incoming) + len(classified.dead) + len(classified.skipped),
                requested=report.effects.requested,
                cancelled=sum(report.effects.cancelled.values()),
                dead_lettered=len(classified.dead),
            )
        for decision in report.effects.decisions:
            _log_decision(decision)
        for empty in report.effects.empty_windows:
            _log_empty_window(empty)


def _where(origin: Origin | None) -> dict[str, object]:
    """The event's position and id, for a log line about what it led to."""
    if origin is None:
        return {}
    return {
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "event_id": origin.event_id,
    }


def _log_empty_window(empty: EmptyWindow) -> None:
    log.warning(
        "job can match nobody: its inactivity window is empty",
        tenant_id=empty.tenant_id,
        job_id=empty.job_id,
        min_inactive_days=empty.min_inactive_days,
        max_inactive_days=empty.max_inactive_days,
        **_where(empty.origin),
    )


def _log_decision(decision: Decision) -> None:
    """One line per outreach, with the ids OPERATIONS.md lists; no address or name."""
    where = _where(decision.origin)
    if decision.reason is not None:
        where["reason"] = decision.reason
    if decision.rank is not None:
        where["rank"] = decision.rank
    log.info(
        decision.what,
        tenant_id=decision.tenant_id,
        job_id=decision.job_id,
        outreach_id=decision.outreach_id,
        **where,
    )


def _stop_if_the_store_refuses_every_statement(error: Exception) -> None:
    sqlstate = refusal_of_every_statement(error)
    if sqlstate is not None:
        raise FatalError(
            f"the database refuses the worker's statements ({type(error).__name__}, SQLSTATE "
            f"{sqlstate}): check the role's privileges and that `reengage migrate` has run"
        ) from error
