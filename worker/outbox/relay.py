"""The relay: publishes outbox rows in id order and stamps them once the broker acknowledged.

At-least-once by construction: a crash after the broker's acknowledgement and before the
stamp republishes the same rows, byte for byte (the payload is stored, not rebuilt), so the
repeat carries the same CloudEvents id and body and consumers deduplicate on it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kafka.errors import MessageSizeTooLargeError
from sqlalchemy import Engine, delete, select, update

from worker.errors import FatalError
from worker.kafka.producer import Outgoing, Producer
from worker.logs import get_logger
from worker.outbox.gauges import refresh_outbox_gauges, try_refresh_outbox_gauges
from worker.outbox.leadership import RelayLeadership
from worker.runtime.faults import crash_point, hold_point
from worker.runtime.retry import retry_transient
from worker.runtime.shutdown import Shutdown
from worker.store.engine import READ_ONLY
from worker.store.schema import OutboxRow

log = get_logger("reengage.relay")

# Published rows are kept a day for inspection, then deleted: the table would otherwise grow
# with every outreach ever made, and published payloads still hold addresses and names.
PUBLISHED_RETENTION = timedelta(hours=24)
_PURGE_INTERVAL_S = 60.0
_PURGE_CHUNK = 10_000


class _ShutdownWhileWaitingError(Exception):
    """Shutdown arrived while a retry waited."""


@dataclass(frozen=True, slots=True)
class _Pending:
    id: int
    message: Outgoing


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        producer: Producer,
        *,
        batch_size: int = 500,
        sweep_interval_s: float = 1.0,
        retry_budget_s: float = 300.0,
    ) -> None:
        self._engine = engine
        self._producer = producer
        self._batch_size = batch_size
        self._sweep_interval_s = sweep_interval_s
        self._retry_budget_s = retry_budget_s
        self._wake = threading.Event()
        self._leadership = RelayLeadership(engine)
        self.failure: BaseException | None = None
        self._last_purge = float("-inf")
        self._gauges_refreshed_at = float("-inf")

    def wake(self) -> None:
        """Called by the worker right after it commits outbox rows."""
        self._wake.set()

    def publish_pending(self, shutdown: Shutdown | None = None) -> int:
        """Publish everything unpublished now, oldest first (stopping between batches on
        shutdown). Returns how many were published."""
        published = 0
        while shutdown is None or not shutdown.requested:
            batch = self._next_batch()
            if not batch:
                return published
            if shutdown is not None:
                # A cycle retried after a failure visits this again: tests count on none.
                hold_point("relay-before-send", until=lambda: shutdown.requested)
            try:
                self._producer.send_all([p.message for p in batch])
            except MessageSizeTooLargeError as exc:
                raise OutboxRowTooLargeError(batch) from exc
            crash_point("relay-after-publish")
            ids = [p.id for p in batch]
            # Retried on its own: retrying the whole cycle would publish the batch again at
            # every attempt (a database that accepts reads but not writes, for minutes).
            retry_transient(
                functools.partial(self._mark_published, ids),
                budget_s=self._retry_budget_s,
                idle=_waiting_for(shutdown),
                what="mark outbox rows published",
            )
            published += len(batch)
            # A drain of a large backlog takes many seconds: the gauges follow it down
            # rather than keep the reading from before it started. Only a reading: its
            # failure must not hold up publishing (the cycle's own refresh is the strict one).
            if time.monotonic() - self._gauges_refreshed_at >= self._sweep_interval_s:
                try_refresh_outbox_gauges(self._engine)
                self._gauges_refreshed_at = time.monotonic()
        return published

    def _next_batch(self) -> list[_Pending]:
        statement = (
            select(
                OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.headers, OutboxRow.payload
            )
            .where(OutboxRow.published_at.is_(None))
            .order_by(OutboxRow.id)
            .limit(self._batch_size)
        )
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            rows = connection.execute(statement).all()
        return [
            _Pending(
                row.id,
                Outgoing(
                    topic=row.topic,
                    key=row.key.encode() if row.key is not None else None,
                    value=row.payload.encode(),
                    headers=tuple((k, v.encode()) for k, v in sorted(row.headers.items())),
                ),
            )
            for row in rows
        ]

    def _mark_published(self, ids: Sequence[int]) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids))
                .values(published_at=datetime.now(UTC))
            )

    def purge_published(self, now: datetime) -> int:
        """Delete rows published more than PUBLISHED_RETENTION ago, a chunk at a time."""
        cutoff = now - PUBLISHED_RETENTION
        doomed = (
            select(OutboxRow.id)
            .where(OutboxRow.published_at.is_not(None), OutboxRow.published_at < cutoff)
            .order_by(OutboxRow.id)
            .limit(_PURGE_CHUNK)
            .scalar_subquery()
        )
        with self._engine.begin() as connection:
            result = connection.execute(delete(OutboxRow).where(OutboxRow.id.in_(doomed)))
        return int(result.rowcount)

    def refresh_gauges(self) -> None:
        refresh_outbox_gauges(self._engine)
        self._gauges_refreshed_at = time.monotonic()

    def run(self, shutdown: Shutdown) -> None:
        """Relay until shutdown: publish on every wake-up and at least every sweep interval.
        Only the relay holding leadership publishes; the others stand by. Standing by still
        keeps the backlog gauges current: every `reengage relay` serves them, and the one
        scraped may not be the one publishing."""

        wait = _waiting_for(shutdown)

        def idle(seconds: float) -> None:
            # Between attempts (a broker outage, a missing topic): the backlog the gauges
            # show goes on changing, and an alert on it is what an outage calls for.
            self._refresh_gauges_standing_by()
            wait(seconds)

        try:
            while not shutdown.requested:
                if self._leadership.try_acquire():
                    retry_transient(
                        lambda: self._cycle(shutdown),
                        budget_s=self._retry_budget_s,
                        idle=idle,
                        what="outbox relay",
                    )
                else:
                    self._refresh_gauges_standing_by()
                self._wake.wait(self._sweep_interval_s)
                self._wake.clear()
        except _ShutdownWhileWaitingError:
            pass  # rows not yet marked are published again by the next relay: same bytes
        except BaseException as exc:
            # In-process relay: make the whole process stop (non-zero) rather than keep
            # consuming while nothing is published.
            self.failure = exc
            shutdown.failed = True  # before anything waits on the way out
            log.exception("outbox relay stopped")
            shutdown.request()
        finally:
            self._leadership.release()

    def _cycle(self, shutdown: Shutdown) -> None:
        if not self._leadership.still_held():
            return  # the lease went with its connection: stand by, another relay may lead
        started = time.monotonic()
        count = self.publish_pending(shutdown)
        self.refresh_gauges()
        if time.monotonic() - self._last_purge >= _PURGE_INTERVAL_S:
            self._last_purge = time.monotonic()
            self.purge_published(datetime.now(UTC))
        if count:
            log.info(
                "outbox published",
                messages=count,
                seconds=round(time.monotonic() - started, 3),
            )

    def _refresh_gauges_standing_by(self) -> None:
        # The leader retries its own failures; a standby just keeps its last reading.
        try_refresh_outbox_gauges(self._engine)

    def start_in_thread(self, shutdown: Shutdown) -> threading.Thread:
        thread = threading.Thread(
            target=self.run, args=(shutdown,), name="reengage-relay", daemon=True
        )
        thread.start()
        return thread


def _waiting_for(shutdown: Shutdown | None) -> Callable[[float], None]:
    """A wait between attempts that a shutdown cuts short: the rows stay unmarked, and the
    next relay publishes them again (the same bytes)."""

    def idle(seconds: float) -> None:
        if shutdown is None:
            time.sleep(seconds)
        elif shutdown.wait(seconds):
            raise _ShutdownWhileWaitingError

    return idle


class OutboxRowTooLargeError(FatalError):
    """The broker (or the producer's request limit) refuses an outbox row for its size. No
    retry makes it fit, and skipping it would lose an outreach and reorder the candidate's
    events: stop, naming the row, its size and the limit to raise."""

    def __init__(self, batch: Sequence[_Pending]) -> None:
        biggest = max(batch, key=lambda pending: len(pending.message.value or b""))
        super().__init__(
            f"outbox row {biggest.id} ({len(biggest.message.value or b'')} bytes) is larger "
            f"than topic {biggest.message.topic} accepts: raise the topic's max.message.bytes "
            "(and, past 1 MiB, the relay's max_request_size); nothing after it is published "
            "until then, so no candidate's events are reordered"
        )
