"""Records held back until every partition has spoken: batches in event-time order across
polls, so replaying the topics from the beginning applies the same events in the same order.

ordering.py merges a batch's partitions by event time, but a poll hands out what the client
happens to have: replaying the topics into an empty store, one poll could bring a job's
opening before the candidates stored days earlier on another partition, and the job would
be decided without them. REENGAGEMENT.md promises the replay the same outreach set.

So polled records wait here, per partition, and are released in one merge: the earliest
event first (each partition's own order kept), but only while every assigned partition either
holds a record here or has none to give (read to its end). A partition known to have more,
none of which has arrived, could hold an earlier event: the merge waits for it. Two bounds keep
a slow partition from holding the rest up for long: records held for `max_hold_s`, or more
than `max_held` of them, are released in merge order whatever the others have not sent. A
partition that ran out a bound is not waited for again until it sends a record: one that
never will (a transaction left open hides its end from the client) would otherwise cost
every batch the whole wait.

"Read to its end" is what the broker showed at the last fetch, and a broker can show a later
event before an earlier one on another partition (one produce request's partitions are
appended one by one, and a fetch can come in between; two publishers race). So a record
also waits until `grace_s` after it was published (its Kafka timestamp; at most that long
after it arrived) before it goes: an earlier one that shows up within that time goes first.
A backlog waits nothing. The bounds above override it.

Records without an event time (dead letters, skipped types) go as soon as they are at their
partition's head: they decide nothing, and must not stop their partition's offsets.

A caller may also stop the merge at a record (`may_release`): nothing at or after it in merge
order goes until it may. The worker stops at a job's opening while other workers' partitions
have not been applied up to it (group_order.py).
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from worker.kafka.records import Position, Record

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_Item = TypeVar("_Item")


@dataclass(frozen=True, slots=True)
class Held(Generic[_Item]):
    record: Record
    item: _Item
    time: datetime | None  # None: no event time; released once at its partition's head


class EventTimeMerge(Generic[_Item]):
    def __init__(
        self,
        *,
        max_held: int,
        max_hold_s: float,
        grace_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._max_held = max_held
        self._max_hold_s = max_hold_s
        self._grace_s = grace_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._queues: dict[Position, deque[Held[_Item]]] = {}
        self._due: dict[Position, deque[float]] = {}  # per held record, when its grace ends
        self._grace_ends: float | None = None  # the last release stopped at a grace ending then
        self._count = 0
        self._holding_since: float | None = None
        self._excused: set[Position] = set()  # ran out a bound; not waited for until it sends

    def __len__(self) -> int:
        return self._count

    def add(self, held: Iterable[Held[_Item]]) -> None:
        """Polled records, each partition's in offset order."""
        now, wall = self._clock(), self._wall_clock()
        for entry in held:
            self._queues.setdefault(entry.record.position, deque()).append(entry)
            grace = self._grace_left_after_publishing(entry.record, wall)
            self._due.setdefault(entry.record.position, deque()).append(now + grace)
            self._excused.discard(entry.record.position)
            self._count += 1
        if self._count and self._holding_since is None:
            self._holding_since = self._clock()

    def drop(self, partitions: set[Position]) -> None:
        """Partitions revoked or lost: their records are the next owner's to read."""
        for position in partitions:
            self._count -= len(self._queues.pop(position, ()))
            self._due.pop(position, None)
            self._excused.discard(position)
        if not self._count:
            self._holding_since = None

    def heads(self) -> dict[Position, Held[_Item]]:
        """Per partition with records here, its first one."""
        return {position: queue[0] for position, queue in self._queues.items()}

    def _grace_left_after_publishing(self, record: Record, wall: float) -> float:
        """The grace counts from when the record was published (its Kafka timestamp): one
        read from a backlog has long waited it out. Never longer than from its arrival
        (a timestamp unknown, or ahead of this machine's clock)."""
        if record.timestamp_ms < 0:
            return self._grace_s
        age = wall - record.timestamp_ms / 1000
        return min(self._grace_s, max(0.0, self._grace_s - age))

    def grace_left(self) -> float | None:
        """When the last release stopped at a record waiting out its grace, the seconds
        until that grace ends (0 once it has): how long a caller may wait for more records
        before asking again. None when it stopped for anything else."""
        if self._grace_ends is None:
            return None
        return max(0.0, self._grace_ends - self._clock())

    def release(
        self,
        limit: int,
        may_have_more: Iterable[Position],
        may_release: Callable[[Held[_Item]], bool] = lambda _held: True,
    ) -> list[Held[_Item]]:
        """Up to `limit` records in merge order. `may_have_more`: assigned partitions that
        may hold records not polled yet (not read to their end, or not known to be).
        `may_release`: asked of each record before it goes; the first refused ends the
        release (it and everything after it stay)."""
        self._grace_ends = None
        if not self._count:
            return []
        now = self._clock()
        overdue = self._count >= self._max_held or (
            self._holding_since is not None and now - self._holding_since >= self._max_hold_s
        )
        waiting_on = set(may_have_more) - self._excused
        silent = {position for position in waiting_on if position not in self._queues}
        if silent and not overdue:
            return []
        if overdue:
            self._excused |= silent
            waiting_on -= silent
        heads = [(merge_key(queue[0]), position) for position, queue in self._queues.items()]
        heapq.heapify(heads)
        released: list[Held[_Item]] = []
        while heads and len(released) < limit:
            _, position = heapq.heappop(heads)
            queue, due = self._queues[position], self._due[position]
            if now < due[0] and queue[0].time is not None and not overdue:
                self._grace_ends = due[0]
                break
            if not may_release(queue[0]):
                break
            released.append(queue.popleft())
            due.popleft()
            if queue:
                heapq.heappush(heads, (merge_key(queue[0]), position))
                continue
            del self._queues[position], self._due[position]
            if position in waiting_on:
                break  # its next record, not polled yet, may be the earliest
        self._count -= len(released)
        self._holding_since = None if not self._count else now
        return released


def merge_key(entry: Held[Any]) -> tuple[datetime, str, int]:
    """The merge's order. Equal times: by topic and partition, never by which poll came
    first, so that a replay breaks the tie alike."""
    record = entry.record
    return (_EARLIEST if entry.time is None else entry.time, record.topic, record.partition)
