"""The mailer's consume loop: `reengage.outreach` in, email out, status events published,
offsets committed last.

One batch:
1. decode every record; dead-letter the invalid (acknowledged before anything is committed);
2. in one transaction, in record order: each `requested` enters the ledger as `pending`, each
   `cancelled` turns a `pending` row into `skipped`. A cancellation later in the same batch,
   or in an earlier one, is thus applied before its outreach is sent (same key, same
   partition, so it always arrives after the request);
3. each requested outreach still `pending` is delivered (deliver.py), in order, paced by the
   token bucket; a request whose row is already final is a redelivery: its status is
   published again (same event id and bytes), no email. Right before each email the loop
   reads ahead, past the batch, and turns the `pending` rows of the cancellations it finds
   into `skipped` (see `_read_ahead`);
4. the status events of the batch are published and acknowledged;
5. the offsets are committed.

A crash anywhere re-delivers the batch; the ledger makes every step a no-op the second time,
except publishing status events, which repeat harmlessly. While waiting (the rate limit, a
retry) the loop keeps polling with its partitions paused, so the group keeps it; records of
partitions taken away meanwhile are neither sent nor committed, their next owner does that.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from worker.contracts.catalogue import MAILER_TYPES
from worker.contracts.decode import Decoded, Invalid, Skipped, decode
from worker.contracts.encode import OutgoingMessage
from worker.contracts.envelope import OutreachCancelledEvent, OutreachRequestedEvent
from worker.contracts.outreach import OutreachCancelled, OutreachRequested
from worker.errors import ReengageError
from worker.kafka.consumer import BatchConsumer, UnreadableRecordError
from worker.kafka.dead_letters import (
    DeadLetter,
    DeadLetterBudget,
    DeadLetterQueue,
    publish_counts,
)
from worker.kafka.producer import Outgoing, Producer
from worker.kafka.records import Record, without_partitions
from worker.logs import about_no_record, about_one_record, get_logger
from worker.mailer import ledger
from worker.mailer.compose import Sender
from worker.mailer.deliver import Deliverer, Delivery, MailServer
from worker.mailer.ledger import FINAL_STATES, LedgerEntry, MailState, OutreachKey
from worker.mailer.rate import TokenBucket
from worker.mailer.status import status_event, to_outgoing
from worker.runtime.metrics import BATCH_SECONDS, MAIL, Outcome
from worker.runtime.retry import retry_transient
from worker.runtime.shutdown import Shutdown
from worker.store.engine import in_transaction

log = get_logger("reengage.mailer")

HANDLED_TYPES = MAILER_TYPES
# The `outcome` values of reengage_mail_total: a request's final state when this process
# sent or settled it, a repeat of one already settled, or one another process holds.
CLAIMED_ELSEWHERE = "claimed_elsewhere"
MAIL_OUTCOMES = (*(state.value for state in FINAL_STATES), Outcome.DUPLICATE, CLAIMED_ELSEWHERE)

_POLL_TIMEOUT_S = 0.5
# Read ahead, only cancellations count; the rest is decoded in its own batch.
_CANCELLED_TYPE = b"reengage.outreach.cancelled"
_CANCELLED = frozenset({_CANCELLED_TYPE.decode()})
# At most this often: at high rates, a read-ahead before every email cost more than the
# email; a cancellation this much older than the send is as late as one just after it.
_READ_AHEAD_EVERY_S = 0.1
# Before a batch's first email, read ahead for cancellations for up to this long while the
# client has records (a backlog); caught up, the first empty poll ends it.
_BACKLOG_READ_AHEAD_S = 1.0
# Poll at least this often while sending, so a long batch never nears max_poll_interval_ms.
_KEEP_ALIVE_S = 1.0
# The reports sent on the way out of a failure wait this long at most for the broker.
_REPORT_BEFORE_STOPPING_S = 5.0
_T = TypeVar("_T")


class ShutdownDuringWaitError(ReengageError):
    """Asked to stop while waiting (rate limit, retry): leave the rest of the batch."""


@dataclass(slots=True)
class _Batch:
    requests: list[tuple[Record, OutreachRequestedEvent]] = field(default_factory=list)
    cancels: list[tuple[Record, OutreachCancelledEvent]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    skipped: list[tuple[Record, str]] = field(default_factory=list)
    # Records whose work is not done (stopped or handed over): not committed.
    undone: list[Record] = field(default_factory=list)
    statuses: list[OutgoingMessage] = field(default_factory=list)
    # The ledger rows of the batch's requests, as read right after the batch's transaction.
    entries: dict[str, LedgerEntry] = field(default_factory=dict)
    # (topic, type, outcome) for reengage_events_total.
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # The requests (by topic, partition, offset) that told the ledger of their outreach.
    first_seen: set[tuple[str, int, int]] = field(default_factory=set)


def classify_records(records: Sequence[Record]) -> _Batch:
    batch = _Batch()
    for record in records:
        match decode(record.value, HANDLED_TYPES):
            case Decoded(event=OutreachRequestedEvent() as event):
                batch.requests.append((record, event))
            case Decoded(event=OutreachCancelledEvent() as event):
                batch.cancels.append((record, event))
            case Decoded(event=event):  # pragma: no cover - decode only returns handled types
                batch.skipped.append((record, event.type))
            case Invalid(error_class=error_class, reason=reason, event_type=event_type):
                batch.dead.append(DeadLetter(record, error_class, reason, event_type))
            case Skipped(event_type=event_type):
                batch.skipped.append((record, event_type))
    return batch


class MailerLoop:
    def __init__(
        self,
        *,
        engine: Engine,
        consumer: BatchConsumer,
        producer: Producer,
        dead_letters: DeadLetterQueue,
        budget: DeadLetterBudget,
        server: MailServer,
        sender: Sender,
        bucket: TokenBucket,
        claimant: str,
        status_topic: str,
        shutdown: Shutdown,
        retry_budget_s: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._consumer = consumer
        self._producer = producer
        self._dead_letters = dead_letters
        self._budget = budget
        self._status_topic = status_topic
        self._shutdown = shutdown
        self._retry_budget_s = retry_budget_s
        self._now = now
        self._in_hand: list[Record] = []
        self._gone: set[tuple[str, int]] = set()
        # Read ahead of the batch, per partition: the first such record, to go back to.
        self._ahead: dict[tuple[str, int], Record] = {}
        # Outreach the read-ahead skipped during this batch.
        self._skipped_ahead: set[str] = set()
        # A record the client cannot read, met by the read-ahead: it ends reading ahead for
        # the batch, and is dealt with at the batch's end (`_after_unreadable`).
        self._unreadable: UnreadableRecordError | None = None
        self._last_read_ahead = float("-inf")
        self._last_poll = time.monotonic()
        self._deliverer = Deliverer(
            engine=engine,
            server=server,
            sender=sender,
            bucket=bucket,
            claimant=claimant,
            idle=self._idle,
            retry_budget_s=retry_budget_s,
            now=now,
            cancelled_meanwhile=self._cancelled_meanwhile,
        )

    def run(self) -> None:
        """Until shutdown is requested; the email in hand is always finished first."""
        while not self._shutdown.requested:
            records = self._consumer.poll(_POLL_TIMEOUT_S)
            self._last_poll = time.monotonic()
            self._consumer.partitions_gone()  # nothing in hand: nothing to drop
            if records:
                # A batch may take many seconds; its records are behind until committed.
                self._consumer.update_lag()
                try:
                    self.process(records)
                except ShutdownDuringWaitError:
                    log.info("shutdown while waiting: the rest is left for the next run")
                    return
            # After every poll, not only idle ones: a backlog is when the gauge matters.
            self._consumer.update_lag()

    def process(self, records: Sequence[Record]) -> None:
        started = time.perf_counter()
        self._in_hand = list(records)
        self._gone = set()
        self._skipped_ahead = set()
        self._unreadable = None
        batch = classify_records(records)
        if batch.dead:
            failed_at = self._now()
            self._retry(lambda: self._dead_letters.publish(self._owned(batch.dead), failed_at))
        cancelled, newly_skipped = self._retry(
            lambda: in_transaction(self._engine, lambda c: self._apply(c, batch))
        )
        batch.statuses.extend(cancelled)
        MAIL.labels(MailState.SKIPPED.value).inc(newly_skipped)
        try:
            stopped = self._send(batch)
        except Exception:
            self._report_before_stopping(batch)
            raise
        if batch.statuses:
            outgoing = self._status_records(batch)
            self._retry(lambda: self._producer.send_all(outgoing))
        self._commit(batch)
        self._count(batch)
        self._budget.record_batch(records, [letter.record for letter in batch.dead])
        BATCH_SECONDS.observe(time.perf_counter() - started)
        if stopped:
            raise ShutdownDuringWaitError

    def _status_records(self, batch: _Batch) -> list[Outgoing]:
        return [to_outgoing(m, self._status_topic) for m in batch.statuses]

    def _report_before_stopping(self, batch: _Batch) -> None:
        """The mailer stops mid-batch (a retry budget spent, e.g. the SMTP server gone): the
        emails already sent are reported now rather than at the next start, so the worker
        does not go on taking them for cancellable. Once, briefly: the ledger has them, and
        the next run reports them again (the same status ids) from the uncommitted batch."""
        if not batch.statuses:
            return
        try:
            self._producer.send_all(
                self._status_records(batch), timeout_s=_REPORT_BEFORE_STOPPING_S
            )
        except Exception as exc:  # the failure under way is the one to report
            log.warning(
                "statuses not reported before stopping; the next run reports them",
                statuses=len(batch.statuses),
                error_class=type(exc).__name__,
            )
        else:
            log.info("statuses reported before stopping", statuses=len(batch.statuses))

    def _apply(self, connection: Connection, batch: _Batch) -> tuple[list[OutgoingMessage], int]:
        """Ledger entries for the whole batch, in record order, so a cancellation applies to
        the request before it. Returns the cancellations' status events, and how many
        outreach they newly skipped."""
        now = self._now()
        statuses: list[OutgoingMessage] = []
        newly_skipped = 0
        # Skipped by a cancellation read earlier in this batch: its request, read after it,
        # is seen for the first time too (the cancellation reported the skip), not a repeat.
        skipped_here: set[str] = set()
        items = sorted([*batch.requests, *batch.cancels], key=lambda item: _order(item[0]))
        for record, event in items:
            if isinstance(event, OutreachRequestedEvent):
                data = event.data
                key = OutreachKey(
                    data.outreach_id, data.tenant_id, data.job.job_id, data.candidate.candidate_id
                )
                first = ledger.record_requested(connection, key, now)
                if first or data.outreach_id in skipped_here:
                    # Once: a second copy of the request in this batch is a repeat.
                    skipped_here.discard(data.outreach_id)
                    batch.first_seen.add((record.topic, record.partition, record.offset))
                continue
            assert isinstance(event, OutreachCancelledEvent)
            key = _key_of(event.data)
            if ledger.record_cancelled(connection, key, now):
                newly_skipped += 1
                skipped_here.add(key.outreach_id)
            entry = ledger.get(connection, key.outreach_id)
            if entry is not None and entry.key != key:
                log.warning(
                    "cancellation ignored: its tenant, job or candidate is not the outreach's",
                    **_about(record, event),
                )
                continue
            if entry is not None and entry.state is MailState.SKIPPED:
                # Also for a repeated cancellation: the first status may never have left.
                statuses.append(status_event(entry))
        batch.entries = ledger.get_many(
            connection, [event.data.outreach_id for _, event in batch.requests]
        )
        return statuses, newly_skipped

    def _send(self, batch: _Batch) -> bool:
        """Deliver the batch's requests in order. True when stopped early by a shutdown."""
        if batch.requests:
            self._read_ahead_through_backlog()
        for index, (record, event) in enumerate(batch.requests):
            if self._shutdown.requested:
                batch.undone.extend(r for r, _ in batch.requests[index:])
                return True
            if not self._owns(record):
                continue
            try:
                known = batch.entries.pop(event.data.outreach_id, None)
                # Delivery's own lines (SMTP retries, a database outage) say which record.
                with about_one_record(**_about(record, event)):
                    delivery = self._deliverer.deliver(
                        event.data, known, still_ours=functools.partial(self._owns, record)
                    )
            except ShutdownDuringWaitError:
                batch.undone.extend(r for r, _ in batch.requests[index:])
                return True
            if not self._owns(record):
                # Taken away while this email waited (pace, retry, read-ahead): the claim
                # refused to go on. Or while its outcome was being recorded: the ledger has
                # it. Either way the next owner reads the record again, sends or reports.
                log.info(
                    "partition taken away during this email: left to its next owner",
                    **_about(record, event),
                )
                continue
            self._after_delivery(record, event, delivery, batch)
            if time.monotonic() - self._last_poll > _KEEP_ALIVE_S:
                self._keep_alive()
        return False

    def _after_delivery(
        self,
        record: Record,
        event: OutreachRequestedEvent,
        delivery: Delivery | None,
        batch: _Batch,
    ) -> None:
        if delivery is None:
            # Another process holds the claim (one in another group, or one evicted from
            # this one that does not know it yet) and will report the outcome. Not read
            # again: that process is alive (it has just claimed) and likely mid-send, and a
            # second read would resolve its claim as `sent` before its reply is in.
            MAIL.labels(CLAIMED_ELSEWHERE).inc()
            return
        entry = delivery.entry
        # Found done at its first sight: cancelled later in this same batch, and the
        # cancellation has reported the skip (status, count). Found done otherwise: a repeat.
        first = (record.topic, record.partition, record.offset) in batch.first_seen
        repeat = not delivery.fresh and not first
        if delivery.fresh or repeat:
            batch.statuses.append(status_event(entry))  # a repeat's too: the first may be lost
            MAIL.labels(entry.state.value if delivery.fresh else Outcome.DUPLICATE).inc()
        outcome = Outcome.DUPLICATE if repeat else Outcome.PROCESSED
        batch.counts[(record.topic, event.type, outcome)] += 1
        log.info(
            "outreach " + (entry.state.value if delivery.fresh else "already done"),
            **_about(record, event),
            reason=entry.reason,
            detail=entry.detail,
        )

    def _commit(self, batch: _Batch) -> None:
        self._drop_gone_partitions()
        first_undone: dict[tuple[str, int], int] = {}
        for record in batch.undone:
            current = first_undone.get(record.position, record.offset)
            first_undone[record.position] = min(current, record.offset)
        # Worked out at each attempt: a partition taken away while a retry waits is dropped
        # from what is in hand, and its offsets are its next owner's to commit.
        self._retry(
            lambda: self._consumer.commit(
                [r for r in self._in_hand if r.offset < first_undone.get(r.position, r.offset + 1)]
            )
        )
        self._in_hand = []
        # What was read ahead is read again, in full, as the next batches.
        self._consumer.rewind(list(self._ahead.values()))
        self._after_unreadable()
        self._ahead = {}

    def _after_unreadable(self) -> None:
        """The batch is sent and committed: stop at the record the read-ahead could not
        read (kafka-python would loop forever at the next poll of its partition). Unless
        a shutdown is stopping the mailer anyway: the next run meets it again."""
        error, self._unreadable = self._unreadable, None
        if error is None or self._shutdown.requested:
            return
        if any(
            position in self._gone or not self._consumer.all_handed_out_committed(position)
            for position in error.partitions
        ):
            # The group's commit stands before records that precede it on its partition.
            raise error.with_records_before_it_unprocessed()
        raise error

    def _cancelled_meanwhile(self, outreach_id: str) -> bool:
        """Right before an email: have cancellations read since the batch skipped it?"""
        if time.monotonic() - self._last_read_ahead >= _READ_AHEAD_EVERY_S:
            self._read_ahead()
            self._last_read_ahead = time.monotonic()
        return outreach_id in self._skipped_ahead

    def _read_ahead(self) -> None:
        """A batch holds up to five seconds of sends, and a cancellation further along the
        partition than the batch's last record would otherwise arrive after its email. So
        before each email the loop polls on, past the batch, and applies what it finds of
        cancellations to rows still `pending`, nothing else: requests, unknown outreach and
        the status events wait for the records' turn. Those records are given back at the
        batch's end (`_commit`); their cancellations then find the rows skipped already."""
        if self._unreadable is not None:
            return
        with about_no_record():  # called while an email is on its way: not about that one
            self._read_ahead_now()

    def _read_ahead_through_backlog(self) -> None:
        """Before a batch's first email: read on while the client has more, for up to
        _BACKLOG_READ_AHEAD_S. Behind a backlog the cancellations of this batch's requests
        can sit thousands of records further along (a job closed before the mailer caught
        up); one poll per email reached them only after the first emails had gone."""
        deadline = time.monotonic() + _BACKLOG_READ_AHEAD_S
        with about_no_record():
            while (
                self._unreadable is None
                and not self._shutdown.requested
                and time.monotonic() < deadline
                and self._read_ahead_now()
            ):
                pass
        self._last_read_ahead = time.monotonic()

    def _read_ahead_now(self) -> int:
        """One poll past the batch; how many records it brought."""
        try:
            records = self._consumer.poll(0)
        except UnreadableRecordError as exc:
            # Raised now, it would stop the mailer before the batch is sent and committed.
            log.info("read-ahead stopped at a record the client cannot read")
            self._unreadable = exc
            return 0
        self._last_poll = time.monotonic()
        # First: a partition taken away in this poll was moved back by the consumer, and a
        # position to go back to from before would skip records.
        self._drop_gone_partitions()
        for record in records:
            self._ahead.setdefault(record.position, record)
        keys = [
            _key_of(result.event.data)
            for record in records
            # A byte search first: decoding every request read ahead cost a third of the
            # mailer's throughput at 1,000 emails a second. (A type spelled with JSON
            # escapes is missed here, and applied in its own batch as before.)
            if record.value is not None
            and _CANCELLED_TYPE in record.value
            and isinstance(result := decode(record.value, _CANCELLED), Decoded)
            and isinstance(result.event, OutreachCancelledEvent)
        ]
        if not keys:
            return len(records)
        skipped = self._retry(
            lambda: in_transaction(
                self._engine, lambda c: ledger.skip_pending(c, keys, self._now())
            )
        )
        if skipped:
            MAIL.labels(MailState.SKIPPED.value).inc(len(skipped))
            self._skipped_ahead |= skipped
            log.info("cancellations read ahead of the batch", skipped=len(skipped))
        return len(records)

    def _idle(self, seconds: float) -> None:
        """Wait while staying in the group: poll with every partition paused."""
        deadline = time.monotonic() + seconds
        while True:
            if self._shutdown.requested:
                raise ShutdownDuringWaitError
            self._keep_alive(min(max(deadline - time.monotonic(), 0.0), _POLL_TIMEOUT_S))
            if time.monotonic() >= deadline:
                return

    def _keep_alive(self, timeout_s: float = 0.0) -> None:
        with about_no_record():  # rebalance lines, called while an email is on its way
            self._consumer.poll_paused(timeout_s)
            self._last_poll = time.monotonic()
            self._drop_gone_partitions()
            self._consumer.resume()

    def _drop_gone_partitions(self) -> None:
        gone = self._consumer.partitions_gone()
        if gone:
            log.info("partitions taken away mid-batch", partitions=sorted(gone))
            self._gone |= gone
            self._in_hand = without_partitions(self._in_hand, gone)
            for position in gone:
                self._ahead.pop(position, None)

    def _owns(self, record: Record) -> bool:
        return record.position not in self._gone

    def _owned(self, dead: list[DeadLetter]) -> list[DeadLetter]:
        return [d for d in dead if self._owns(d.record)]

    def _count(self, batch: _Batch) -> None:
        counts = batch.counts
        for record, event in batch.cancels:
            counts[(record.topic, event.type, Outcome.PROCESSED)] += 1
        publish_counts(counts, batch.dead, batch.skipped)

    def _retry(self, attempt: Callable[[], _T]) -> _T:
        return retry_transient(
            attempt, budget_s=self._retry_budget_s, idle=self._idle, what="mailer batch"
        )


def _order(record: Record) -> tuple[str, int, int]:
    return (record.topic, record.partition, record.offset)


def _key_of(cancel: OutreachCancelled) -> OutreachKey:
    return OutreachKey(cancel.outreach_id, cancel.tenant_id, cancel.job_id, cancel.candidate_id)


def _about(
    record: Record, event: OutreachRequestedEvent | OutreachCancelledEvent
) -> dict[str, str | int]:
    """What a log line about one request or cancellation names (OPERATIONS.md, "Logs")."""
    data = event.data
    job_id = data.job.job_id if isinstance(data, OutreachRequested) else data.job_id
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "event_id": event.id,
        "outreach_id": data.outreach_id,
        "tenant_id": data.tenant_id,
        "job_id": job_id,
    }
