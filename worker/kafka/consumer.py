"""Batched consumption with explicit offset commits and rebalance bookkeeping.

The loop that uses this always finishes and commits a batch before it polls again, and
kafka-python runs rebalance callbacks inside `poll()`. So at a revoke there is no committed-
but-unprocessed work to save; what can be in hand is a batch whose transaction failed and is
being retried (database down), or the mailer's batch while it waits between sends or reads
ahead for cancellations (its own polls inside a batch). Its
records for revoked or lost partitions are dropped, uncommitted: the partition's next owner
will process them, and since our transaction never committed, nothing is done twice.

The next owner may be this member: kafka-python 3 keeps a partition's position when a
rebalance gives it straight back, and would go on after the dropped records. So at a revoke
each partition with records in hand is moved back to the first of them. That includes a
batch whose transaction committed while its offsets did not (a commit refused, or retried
across the revoke): it comes again, and its processed markers (the mailer: its ledger) make
it a no-op.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import (
    CommitFailedError,
    CorruptRecordError,
    KafkaError,
    KafkaTimeoutError,
    NoOffsetForPartitionError,
    OffsetOutOfRangeError,
    RebalanceInProgressError,
)
from kafka.structs import OffsetAndMetadata

from worker.errors import FatalError
from worker.kafka.config import consumer_options
from worker.kafka.records import Position, Record, next_offsets
from worker.logs import get_logger
from worker.runtime.metrics import CONSUMER_LAG
from worker.settings import Settings

log = get_logger("reengage.consumer")


class CommittedOffsetGoneError(FatalError):
    """The group's position on a partition is no longer on the broker (retention, or a topic
    deleted and created again): the records between cannot be processed. Stop rather than
    jump, and say where and how to go on."""

    def __init__(self, group_id: str, positions: dict[Any, Any]) -> None:
        where = (
            ", ".join(
                f"{tp.topic} partition {tp.partition} at offset {offset}"
                for tp, offset in sorted(positions.items())
            )
            or "a partition the client did not name"
        )
        super().__init__(
            f"the group's position is no longer on the broker: {where} (retention deleted "
            "records this group had not read, or the topic was created again). Nothing was "
            "skipped. To go on from the oldest record still there, with every member of "
            f"group {group_id} stopped: kafka-consumer-groups.sh --group {group_id} "
            "--reset-offsets --to-earliest --topic TOPIC:PARTITION --execute"
        )


class UnreadableRecordError(FatalError):
    """A record the Kafka client cannot parse: no bytes to dead-letter, no way past it that
    would not silently lose it. Stop, and say where it is and how to move past it.
    `partitions`: where it may be (one when the client says which)."""

    def __init__(
        self, cause: str, where: str, advice: str, partitions: frozenset[Position]
    ) -> None:
        super().__init__(
            f"the Kafka client cannot read a record ({cause}): a header key that is not UTF-8 "
            "(the Kafka protocol forbids it) or a corrupt batch; it cannot be dead-lettered. "
            f"It is at {where}. {advice}"
        )
        self.cause, self.where, self.partitions = cause, where, partitions

    def with_records_before_it_unprocessed(self) -> UnreadableRecordError:
        """The same stop where the group's commit stands before records that precede it
        (read and given back, or dropped with a revoked partition): moving one record past
        it would skip those. A restart processes them and stops at it again."""
        return UnreadableRecordError(
            self.cause,
            self.where,
            "Records before it were read and not processed yet: restart, and the next run "
            "processes them and stops here again, saying how to move past it",
            self.partitions,
        )


# A commit waits at most this long (kafka-python's default is request_timeout_ms, 5 minutes);
# the caller retries a timeout like any transient failure, and SIGTERM is never held up long.
_COMMIT_TIMEOUT_MS = 10_000
# Asked between retries only; short, so a shutdown during an outage is not held up by it.
_ENDS_TIMEOUT_MS = 1_000
# Where kafka-python's fetcher keeps an error for the next poll (private; see poll_paused).
_KEPT_ERROR = "_next_in_line_exception_metadata"
# Looking up whether a new partition has a committed offset. The loop asks again on its next
# poll, so a hung broker holds a SIGTERM up by this much at most, not by request_timeout_ms.
_COMMITTED_TIMEOUT_MS = 1_000
# kafka-python's fetcher (private): fetched records not handed out yet, as a queue of
# responses and, per paused partition, responses and records parked until it resumes.
_FETCHED_QUEUES = ("_completed_fetches", "_paused_completed_fetches", "_paused_partition_records")


class _Rebalances(ConsumerRebalanceListener):  # type: ignore[misc]
    """Remembers which partitions went away since the loop last asked; `before_forgetting`
    runs first, while they are still assigned."""

    def __init__(self, before_forgetting: Callable[[list[TopicPartition]], None]) -> None:
        self._before_forgetting = before_forgetting
        self._lock = threading.Lock()
        self._gone: set[Position] = set()
        self.assigned: set[Position] = set()

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._forget(revoked, lost=False)

    def on_partitions_lost(self, lost: Iterable[TopicPartition]) -> None:
        # Evicted: the group has moved on, so a commit would fail anyway. Commit nothing.
        self._forget(lost, lost=True)

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        with self._lock:
            self.assigned = {(tp.topic, tp.partition) for tp in assigned}
        log.info("partitions assigned", partitions=sorted(self.assigned))

    def _forget(self, partitions: Iterable[TopicPartition], *, lost: bool) -> None:
        partitions = list(partitions)
        self._before_forgetting(partitions)
        gone = {(tp.topic, tp.partition) for tp in partitions}
        with self._lock:
            self._gone |= gone
            self.assigned -= gone
        for topic, partition in gone:
            # Another member reports these now; a frozen value here would count them twice.
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(topic, str(partition))
        log.info("partitions lost" if lost else "partitions revoked", partitions=sorted(gone))

    def take_gone(self) -> set[Position]:
        with self._lock:
            gone, self._gone = self._gone, set()
        return gone


def queue_entries(queue: Any) -> list[Any]:
    """The entries of one of kafka-python's fetch queues: a dict's values, or a sequence."""
    return list(queue.values() if isinstance(queue, dict) else queue)


def shown_end(entry: Any) -> int | None:
    """The partition end a queued fetch entry showed: a raw response's high watermark, or
    None for one with an error or records already parsed from it (truthy while any are
    left; an empty one shows nothing new)."""
    data = getattr(entry, "partition_data", None)
    if data is None:
        return None if entry else 0
    end = getattr(data, "high_watermark", None)
    error = getattr(data, "error_code", 0)
    return end if isinstance(end, int) and end >= 0 and not error else None


def new_consumer(options: dict[str, Any]) -> KafkaConsumer:
    """A KafkaConsumer built from `options`, `allow_auto_create_topics` included.

    kafka-python 3.0.12 builds the client's cluster metadata from three options only
    (net/manager.py: bootstrap servers, metadata age, DNS mode), so its metadata requests ask
    the broker to create every missing topic they name whatever the consumer was told. The
    option is copied there (`_cluster`, the metadata `BatchConsumer.partitions_of` reads too);
    a later client that keeps it itself is left as it is (the test that a subscription
    creates nothing says whether it still holds)."""
    consumer = KafkaConsumer(**options)
    cluster_config = getattr(getattr(consumer, "_cluster", None), "config", None)
    if isinstance(cluster_config, dict) and "allow_auto_create_topics" in options:
        cluster_config["allow_auto_create_topics"] = options["allow_auto_create_topics"]
    return consumer


class BatchConsumer:
    """A subscribed consumer group member handing out batches of `Record`s."""

    def __init__(
        self,
        settings: Settings,
        group_id: str,
        topics: Sequence[str],
        max_records: int = 500,
        **overrides: Any,
    ) -> None:
        options = consumer_options(settings, group_id)
        options.update(max_poll_records=max_records, auto_offset_reset="none", **overrides)
        self.group_id = group_id
        self._consumer = new_consumer(options)
        self._rebalances = _Rebalances(before_forgetting=self._rewind_uncommitted)
        self._consumer.subscribe(topics=list(topics), listener=self._rebalances)
        # Per partition, the first offset handed out and not committed yet: the lag counts
        # from there, so a batch stuck in retries (database down) is still lag.
        self._first_uncommitted: dict[Position, int] = {}
        self._last_handed_out: dict[Position, int] = {}
        self._max_records = max_records
        self._last_poll_was_full = False

    @property
    def assigned(self) -> set[Position]:
        return set(self._rebalances.assigned)

    def positions(self) -> dict[Position, int]:
        """The next offset the client will hand out, per assigned partition it knows one for
        (without waiting: a position still being looked up is left out). It moves past
        records it never hands out, such as transaction markers."""
        known: dict[Position, int] = {}
        for tp in self._consumer.assignment():
            try:
                position = self._consumer.position(tp, timeout_ms=0)
            except KafkaError:  # e.g. no committed offset yet: the next poll settles it
                continue
            if position is not None:
                known[(tp.topic, tp.partition)] = position
        return known

    def may_have_more(self) -> set[Position]:
        """Assigned partitions that may hold records not handed out yet: the client knows of
        records past its position (from a fetch it handed out, or one it still holds), or
        does not know its position or the partition's end yet (no fetch answered for it).
        No I/O: what the fetcher last learnt."""
        queued = self._queued_ends()
        unsure: set[Position] = set()
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if tp in queued:
                shown = queued[tp]
                end = None if shown is None else max(shown, end or 0)
            try:
                position = self._consumer.position(tp, timeout_ms=0)
            except KafkaError:
                position = None
            if end is None or position is None or position < end:
                unsure.add((tp.topic, tp.partition))
        return unsure

    def _queued_ends(self) -> dict[Any, int | None]:
        """Per partition with a fetch the client holds and has not handed out, the end that
        fetch showed (None: unknown, or records already read from it are waiting).

        kafka-python 3.0.12 learns a partition's end only when it hands out that fetch's
        records: after a poll cut short by max_poll_records, the partitions still queued in
        it show the end of their previous fetch, as if read to it. Its private queues are
        read here (every partition of a fetch is queued, those with nothing new too, so
        the end each showed matters: waiting on those would cost an idle poll). A client
        that keeps them elsewhere counts every assigned partition as unknown after a full
        poll (the merge then waits one more poll, which the full poll makes immediate)."""
        fetcher = getattr(self._consumer, "_fetcher", None)
        queues = [getattr(fetcher, name, None) for name in _FETCHED_QUEUES]
        if any(queue is None for queue in queues):
            everything = self._consumer.assignment() if self._last_poll_was_full else ()
            return dict.fromkeys(everything)
        ends: dict[Any, int | None] = {}
        current = getattr(fetcher, "_next_partition_records", None)
        for entry in [current, *(e for queue in queues for e in queue_entries(queue))]:
            if entry is None or not hasattr(entry, "topic_partition"):
                continue
            tp, shown = entry.topic_partition, shown_end(entry)
            known = ends.get(tp, 0)
            ends[tp] = None if shown is None or known is None else max(shown, known)
        return ends

    def partitions_of(self, topics: Iterable[str]) -> set[Position]:
        """Every partition of `topics` the client's metadata knows, assigned here or not; a
        topic it does not know (missing, or not yet described) has none. No I/O: the client
        keeps its subscribed topics' metadata current. `KafkaConsumer.partitions_for_topic`
        would fetch every topic's metadata for an unknown one and wait for it without a
        bound, between every batch while a subscribed topic does not exist."""
        cluster = self._consumer._cluster
        known: set[Position] = set()
        for topic in topics:
            for partition in cluster.partitions_for_topic(topic) or ():
                known.add((topic, partition))
        return known

    def topic_ids(self, topics: Iterable[str]) -> dict[str, str | None]:
        """The broker's id of each topic as the client's metadata holds it (Kafka 2.8 and
        later; None where not known). A topic deleted and created again gets a new one. No
        I/O, as `partitions_of`."""
        cluster = self._consumer._cluster
        ids: dict[str, str | None] = {}
        for topic in topics:
            topic_id = cluster.topic_id(topic)
            ids[topic] = None if topic_id is None else str(topic_id)
        return ids

    def end_offsets(self, positions: Iterable[Position]) -> dict[Position, int]:
        """The broker's end offset of each partition (KafkaError when it does not answer
        within a second)."""
        wanted = [TopicPartition(topic, partition) for topic, partition in positions]
        if not wanted:
            return {}
        ends = self._consumer.end_offsets(wanted, timeout_ms=_ENDS_TIMEOUT_MS)
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}

    def poll(self, timeout_s: float) -> list[Record]:
        self._let_parked_records_back()
        batches = self._poll_from_committed(int(timeout_s * 1000))
        self._last_poll_was_full = sum(map(len, batches.values())) >= self._max_records
        for tp, records in batches.items():
            if records:
                position = (tp.topic, tp.partition)
                self._first_uncommitted.setdefault(position, records[0].offset)
                self._last_handed_out[position] = records[-1].offset
        return [
            Record(
                topic=r.topic,
                partition=r.partition,
                offset=r.offset,
                key=r.key,
                value=r.value,
                headers=tuple((k, v or b"") for k, v in (r.headers or [])),
                timestamp_ms=r.timestamp,
            )
            for records in batches.values()
            for r in records
        ]

    def _let_parked_records_back(self) -> None:
        """kafka-python 3.0.12 parks the records it was reading of a partition that gets
        paused, and gives them back once it is resumed only while it is reading no other
        partition's: but it keeps the last partition it read as "being read" after it ran
        out, so with another partition read while one was paused, the parked one was never
        read again (and never fetched: the client holds records of it). Marking the spent
        reader as none lets the next poll take the parked records back, one partition a
        poll, as kafka-python means to."""
        fetcher = getattr(self._consumer, "_fetcher", None)
        reading = getattr(fetcher, "_next_partition_records", None)
        parked = getattr(fetcher, "_paused_partition_records", None)
        if reading is not None and not reading and parked:
            fetcher._next_partition_records = None  # type: ignore[union-attr]

    def _poll_from_committed(self, timeout_ms: int) -> dict[Any, list[Any]]:
        kept = getattr(getattr(self._consumer, "_fetcher", None), _KEPT_ERROR, None)
        try:
            result: dict[Any, list[Any]] = self._consumer.poll(timeout_ms=timeout_ms)
        except NoOffsetForPartitionError:
            # A partition this group never committed: start at its beginning, so a new
            # deployment processes the whole history. A committed offset that retention has
            # since deleted is a different error (OffsetOutOfRange) and is left to fail
            # loudly rather than silently jump. Nothing is handed out this time: the next
            # poll reads from there, or looks again if the broker did not answer.
            self._start_uncommitted_at_beginning()
            return {}
        except CorruptRecordError as exc:
            raise self._unreadable(exc, kept) from None
        except OffsetOutOfRangeError as exc:
            positions = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
            raise CommittedOffsetGoneError(self.group_id, positions) from None
        except KafkaError as exc:
            if not exc.retriable:
                raise  # e.g. an out-of-range offset: loudly, never a silent jump
            # A broker going away mid-poll (seen once as a connection error out of an idle
            # worker's poll, which then exited 1): the client reconnects on the next poll.
            log.warning("poll failed; polling again", error_class=type(exc).__name__)
            return {}
        return result

    def _unreadable(self, error: CorruptRecordError, kept: object) -> UnreadableRecordError:
        # The client hands out the records before the bad one first, so the partition stands
        # at it. (The error's text quotes the record's bytes: left out.)
        known = self.positions()
        stuck = self._stuck_partitions(known, kept, error)
        where = [
            f"{tp.topic} partition {tp.partition} offset {known[(tp.topic, tp.partition)]}"
            if (tp.topic, tp.partition) in known
            else f"{tp.topic} partition {tp.partition} (offset unknown)"
            for tp in stuck
        ]
        return UnreadableRecordError(
            type(error).__name__,
            " or ".join(where) or "an unknown position",
            f"Move group {self.group_id} one record past it on its partition "
            "(kafka-consumer-groups.sh --reset-offsets --shift-by 1 --topic T:P), then restart",
            frozenset((tp.topic, tp.partition) for tp in stuck),
        )

    def _stuck_partitions(
        self, known: dict[Position, int], kept: object, error: CorruptRecordError
    ) -> list[TopicPartition]:
        """The partition kafka-python was reading when it failed, when its fetcher still says
        (private attributes, so looked up with care): that of an error it kept from the poll
        before (`kept`) when that is the `error` raised, or the one it was reading; else
        every one not read to its end (`known`: the positions)."""
        fetcher = getattr(self._consumer, "_fetcher", None)
        for reading in (
            # Only the error it raised: a kept error whose partition moved since is dropped.
            getattr(kept, "partition", None) if getattr(kept, "exception", None) is error else None,
            getattr(getattr(fetcher, "_next_partition_records", None), "topic_partition", None),
        ):
            if isinstance(reading, TopicPartition):
                return [reading]
        return [
            tp
            for tp in sorted(self._consumer.assignment())
            if (end := self._consumer.highwater(tp)) is None
            or known.get((tp.topic, tp.partition), 0) < end
        ]

    def _start_uncommitted_at_beginning(self) -> None:
        deadline = time.monotonic() + _COMMITTED_TIMEOUT_MS / 1000
        for tp in self._consumer.assignment():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            try:
                if remaining_ms <= 0:
                    raise KafkaTimeoutError()
                committed = self._consumer.committed(tp, timeout_ms=remaining_ms)
            except KafkaError as exc:
                if not exc.retriable and not isinstance(exc, KafkaTimeoutError):
                    raise
                log.debug("committed offset lookup unanswered", error_class=type(exc).__name__)
                return
            if committed is None:
                log.info(
                    "no committed offset: starting at the beginning",
                    topic=tp.topic,
                    partition=tp.partition,
                )
                self._consumer.seek_to_beginning(tp)

    def _rewind_uncommitted(self, partitions: Iterable[TopicPartition]) -> None:
        """Inside a rebalance: each partition still assigned whose records in hand are about
        to be dropped restarts at the first of them, should it come straight back. Its
        bookkeeping goes now rather than when the loop asks: the same `poll()` may go on to
        hand out records of the partition again, and those are in hand."""
        assigned = self._consumer.assignment()
        for tp in partitions:
            position = (tp.topic, tp.partition)
            first = self._first_uncommitted.pop(position, None)
            self._last_handed_out.pop(position, None)
            if first is not None and tp in assigned:
                self._consumer.seek(tp, first)

    def partitions_gone(self) -> set[Position]:
        """Partitions revoked or lost since the last call; drop in-hand records of these
        (records handed out by the poll that saw them go are not "in hand" yet)."""
        return self._rebalances.take_gone()

    def commit(self, records: Sequence[Record]) -> bool:
        """Commit past `records`. False when the group has moved on (a rebalance began or
        finished since the poll): the records' effects are committed in the database, so the
        partition's next owner finds them done. Retriable coordinator errors raise (the
        caller retries); anything else is a real failure and raises too."""
        offsets = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in next_offsets(records).items()
        }
        if not offsets:
            return True
        try:
            self._consumer.commit(offsets=offsets, timeout_ms=_COMMIT_TIMEOUT_MS)
        except (CommitFailedError, RebalanceInProgressError) as exc:
            log.warning(
                "offset commit refused by a rebalance; the records will be redelivered",
                error_class=type(exc).__name__,
            )
            return False
        for tp, committed in offsets.items():
            position = (tp.topic, tp.partition)
            if self._first_uncommitted.get(position, committed.offset) >= committed.offset:
                continue
            if committed.offset > self._last_handed_out.get(position, -1):
                del self._first_uncommitted[position]  # everything handed out is committed
            else:
                # A part of what is in hand (the mailer commits as it goes): the rest counts.
                self._first_uncommitted[position] = committed.offset
        return True

    def all_handed_out_committed(self, position: Position) -> bool:
        """Every record handed out on the partition is committed: its commit stands at its
        read position."""
        return position not in self._first_uncommitted

    def rewind(self, records: Sequence[Record]) -> None:
        """Give records back: the next poll returns them again (from each partition's first).
        A partition no longer assigned is left alone: its next owner reads from the commit."""
        firsts: dict[Position, int] = {}
        for record in records:
            firsts[record.position] = min(firsts.get(record.position, record.offset), record.offset)
        assigned = self._consumer.assignment()
        for (topic, partition), offset in firsts.items():
            tp = TopicPartition(topic, partition)
            if tp in assigned:
                self._consumer.seek(tp, offset)

    def pause(self) -> None:
        self._consumer.pause(*self._consumer.assignment())

    def pause_only(self, positions: Iterable[Position]) -> None:
        """Stop fetching these partitions (the others go on) until `resume()`."""
        self._consumer.pause(*(TopicPartition(topic, partition) for topic, partition in positions))

    def resume(self) -> None:
        self._consumer.resume(*self._consumer.paused())

    def poll_paused(self, timeout_s: float) -> None:
        """Poll with every partition paused: keeps the member in the group (and lets rebalances
        through) while the caller waits, consuming nothing. Left paused; `resume()` after."""
        self.pause()
        # kafka-python 3.0.12 keeps an error met after a poll's records for the next poll,
        # drops it when that poll finds the partition paused, and its following poll then
        # loops forever on the records it could not read. Kept across this one.
        fetcher = getattr(self._consumer, "_fetcher", None)
        kept = getattr(fetcher, _KEPT_ERROR, None)
        stray = self.poll(timeout_s)
        if kept is not None and getattr(fetcher, _KEPT_ERROR, None) is None:
            setattr(fetcher, _KEPT_ERROR, kept)
        if stray:
            # Newly assigned partitions are not paused yet: give their records back.
            self.rewind(stray)

    def update_lag(self, *, ask_broker: bool = False) -> None:
        """Refresh reengage_consumer_lag: records after the last commit, up to the partition's
        end. The end is the fetcher's high watermark (no extra I/O), which paused partitions
        stop refreshing; `ask_broker` asks for the end offsets instead, for a caller that is
        waiting anyway (between retries), so an outage's growing backlog shows."""
        assignment = self._consumer.assignment()
        ends: dict[Any, int | None] = {tp: self._consumer.highwater(tp) for tp in assignment}
        if ask_broker and assignment:
            try:
                ends.update(
                    self._consumer.end_offsets(list(assignment), timeout_ms=_ENDS_TIMEOUT_MS)
                )
            except KafkaError as exc:
                log.debug("end offsets unavailable", error_class=type(exc).__name__)
        for tp, end in ends.items():
            if end is None:
                continue
            position = (tp.topic, tp.partition)
            done = self._first_uncommitted.get(position)
            if done is None:
                done = self._consumer.position(tp, timeout_ms=0)
            if done is None:
                done = end  # no position yet: nothing read, nothing known to be behind
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, end - done))

    def close(self, timeout_s: float = 3.0) -> None:
        """Bounded: kafka-python would otherwise wait up to request_timeout_ms (5 min) for a
        group join in progress, which would break the 10-second shutdown promise."""
        self._consumer.close(autocommit=False, timeout_ms=int(timeout_s * 1000))

    def start_closing(self, timeout_s: float = 3.0) -> threading.Thread:
        """`close()` on a thread of its own, joined by the caller: on a hung broker its
        leave waits `timeout_s` beside the producer's close instead of before it."""
        closing = threading.Thread(
            target=self.close, args=(timeout_s,), name="reengage-consumer-close", daemon=True
        )
        closing.start()
        return closing
