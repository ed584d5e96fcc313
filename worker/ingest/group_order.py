"""Deciding jobs in event-time order across the workers of one group.

One worker merges its partitions by event time (holding.py), so a job opened at T is decided
after every candidate update dated before T that it holds. Another worker's partitions are
out of its sight: a worker ahead of the rest would decide the job while a do-not-contact flag
or a bounce dated before T still waits, unapplied, on a worker that is behind, and the update
would cancel the outreach afterwards, too late if the email went out.

So before a job's opening is released from the merge, the worker looks at every partition of
the candidate and status topics that is not its own:
- each owner writes, between its batches, how far each of its partitions is applied
  (`partition_progress`): every record before an offset (the first it holds, else its read
  position), and every record not applied yet at or after an event time (the first it
  holds, else the last it applied: each partition is in event-time order, as holding.py
  takes it);
- the job goes once, for every other partition, the owner has applied every record up to the
  partition's end as it was when the job was first held, or holds nothing earlier than the
  job in merge order (event time, then topic and partition).

Records behind the job wait with it, as they do in one worker's merge; the worker keeps
polling, and once many are held it stops fetching only the partitions whose held records
all come after the job (`held_back_by`), so the others still advance, its own included:
a partition whose records before the job are released and which then runs empty is
fetched again, not left paused for the merge to give up on. Workers never wait on each
other in a circle: the job earliest in merge order across the group waits on partitions
whose owners have applied everything before their own next record, which is after it. A
partition that moves to the waiting worker (its owner went silent and the group reassigned
it) is still waited for, until this worker has read it to the end the job saw or holds a
record of it. Past `max_wait_s` the job is decided anyway, with a warning naming how many
partitions were behind; the bound counts from when the job was first held, even if an
earlier job came to wait first meanwhile. A worker that owns every partition does not wait,
nor write its progress: its decisions are those of a replay.

Progress is written where it changed, and all of it every few seconds: a member the group
has just evicted, not told yet, may write its old view of a partition once over its new
owner's, and a partition at rest gives its owner no change to write. It is the consumer
group's own (another group on the database reads at its own pace), and it names the topic's
id: a row about a topic since deleted and created again, whose offsets start again at 0, is
read as no row at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka.errors import KafkaError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from worker.errors import TransientError
from worker.ingest.holding import Held, merge_key
from worker.kafka.consumer import BatchConsumer
from worker.kafka.records import Position, Record
from worker.logs import get_logger
from worker.runtime.metrics import MATCH_WAITS
from worker.store.engine import READ_ONLY, in_transaction
from worker.store.progress import PartitionProgress, read_progress, write_progress

log = get_logger("reengage.worker")

MergeKey = tuple[datetime, str, int]
# How often a waiting job looks at the others' progress again, and how often a worker writes
# its own (only when it changed).
_RECHECK_S = 0.2
_PUBLISH_EVERY_S = 0.25
_REWRITE_EVERY_S = 5.0
# Another worker's batch holds SQLite's write lock: try again next turn rather than hold up
# this worker's loop (and a SIGTERM) behind it.
_PUBLISH_LOCK_WAIT_MS = 1_000


def partitions_behind(
    job: MergeKey, ends: Mapping[Position, int], progress: Mapping[Position, PartitionProgress]
) -> list[Position]:
    """The partitions of `ends` (another worker's, with their end offsets when the job was
    first held) that may still hold a record to apply before the job."""
    behind: list[Position] = []
    for position, end in sorted(ends.items()):
        state = progress.get(position)
        if end == 0:
            continue  # never held a record
        if state is None:
            behind.append(position)
            continue
        if state.caught_up_offset is not None and state.caught_up_offset >= end:
            continue
        if state.next_time is not None and (state.next_time, *position) > job:
            continue
        behind.append(position)
    return behind


def of_current_topics(
    progress: Mapping[Position, PartitionProgress], topic_ids: Mapping[str, str | None]
) -> dict[Position, PartitionProgress]:
    """The rows written about the topics as they are now: not those naming another id of
    the topic than the client's metadata (the topic was deleted and created again since).
    A row or a client without an id cannot tell, and is taken at its word."""
    current: dict[Position, PartitionProgress] = {}
    for position, state in progress.items():
        now_id = topic_ids.get(position[0])
        if state.topic_id is None or now_id is None or state.topic_id == now_id:
            current[position] = state
    return current


def held_back_by(job: Position, heads: Mapping[Position, Held[Any]]) -> set[Position]:
    """The partitions (of `heads`, the held records' first per partition) none of whose held
    records can go before the job waiting at the head of `job`'s: the job's own and those
    whose first record comes after it in merge order. Fetching them only piles up records
    behind the job; every other partition may still hold records that go before it."""
    waiting = heads.get(job)
    if waiting is None:
        return set()
    key = merge_key(waiting)
    return {position for position, head in heads.items() if merge_key(head) >= key}


def own_progress(
    partitions: Iterable[Position],
    heads: Mapping[Position, Held[Any]],
    last_applied: Mapping[Position, datetime],
    positions: Mapping[Position, int],
    topic_ids: Mapping[str, str | None],
) -> dict[Position, PartitionProgress]:
    """What this worker can say of each of its `partitions` between batches. Every record
    handed out is held or applied, so: records before the first held one are applied (with
    none held, those before the read position), and none not yet applied is earlier than the
    first held one's event time (with none held or it has no time, than the last applied).
    Each names its topic's id (`topic_ids`), which the offsets belong to."""
    progress: dict[Position, PartitionProgress] = {}
    for position in partitions:
        applied = last_applied.get(position)
        head = heads.get(position)
        topic_id = topic_ids.get(position[0])
        if head is None:
            progress[position] = PartitionProgress(applied, positions.get(position), topic_id)
        else:
            time_ = applied if head.time is None else head.time
            progress[position] = PartitionProgress(time_, head.record.offset, topic_id)
    return progress


def _where(wait: _Wait) -> dict[str, object]:
    topic, partition, offset = wait.record
    return {"topic": topic, "partition": partition, "offset": offset}


def _about(wait: _Wait, behind: list[Position] | None) -> dict[str, object]:
    """A held job's log fields: where it is, and how many partitions are behind it (-1: not
    known, the broker or the database did not answer)."""
    return {**_where(wait), "partitions_behind": -1 if behind is None else len(behind)}


@dataclass(slots=True)
class _Wait:
    record: tuple[str, int, int]
    started: float
    ends: dict[Position, int] = field(default_factory=dict)
    checked: float = float("-inf")
    held: bool = False  # found behind at least once: a wait worth a log line and a count


class GroupOrder:
    """The worker's side of it: may a held job go yet (`allows`), and this worker's progress
    for the others (`publish`). `max_wait_s` 0 turns the wait off; progress is still
    written, since the other members may wait on this one's partitions."""

    def __init__(
        self,
        engine: Engine,
        consumer: BatchConsumer,
        topics: Sequence[str],
        max_wait_s: float,
        *,
        subscribed: Sequence[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`topics`: the partitions a job waits for (candidates, status); `subscribed`:
        every topic the worker reads (a member owning all of them is alone)."""
        self._engine = engine
        self._consumer = consumer
        self._topics = tuple(topics)
        self._subscribed = tuple(subscribed)
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._wait: _Wait | None = None
        # When each job that came to wait first was first held: its bound counts from there.
        self._first_held: dict[tuple[str, int, int], float] = {}
        self._published: dict[Position, PartitionProgress] = {}
        self._publish_due = 0.0
        self._rewrite_due = 0.0

    @property
    def waiting_at(self) -> Position | None:
        """The partition whose held job waits for the group, if one does."""
        return None if self._wait is None else self._wait.record[:2]

    def allows(self, record: Record, moment: datetime, heads: Mapping[Position, Held[Any]]) -> bool:
        """May the job opened at `moment`, consumed as `record`, be released now? `heads`:
        this worker's held records, the job first in merge order among them."""
        if self._max_wait_s <= 0:
            return True
        now = self._clock()
        where = (record.topic, record.partition, record.offset)
        wait = self._wait
        if wait is None or wait.record != where:
            wait = self._wait = _Wait(where, self._first_held.setdefault(where, now))
        if now - wait.checked < _RECHECK_S:
            return False
        wait.checked = now
        behind = self._behind(wait, (moment, record.topic, record.partition), heads)
        if behind is not None and not behind:
            self._finish(wait, "caught_up", now)
            return True
        if now - wait.started >= self._max_wait_s:
            log.warning(
                "job decided without waiting further for the group",
                **_about(wait, behind),
                waited_s=round(now - wait.started, 3),
            )
            self._finish(wait, "timed_out", now)
            return True
        if not wait.held:
            wait.held = True
            log.info("job waits for the group's other partitions", **_about(wait, behind))
        return False

    def forget(self, gone: Collection[Position]) -> None:
        """Partitions revoked: a job of theirs that waited is its next owner's to decide."""
        self._first_held = {job: t for job, t in self._first_held.items() if job[:2] not in gone}
        wait = self._wait
        if wait is not None and wait.record[:2] in gone:
            self._wait = None
            if wait.held:
                log.info(
                    "job's partition moved while it waited: its next owner decides it",
                    **_where(wait),
                    waited_s=round(self._clock() - wait.started, 3),
                )

    def _behind(
        self, wait: _Wait, job: MergeKey, heads: Mapping[Position, Held[Any]]
    ) -> list[Position] | None:
        """The partitions still behind the job; None when that cannot be told now (the
        broker or the database did not answer: asked again shortly)."""
        assigned = self._consumer.assigned
        try:
            others = self._consumer.partitions_of(self._topics) - assigned
            # Others' when the job was first held, this worker's since: read here up to the
            # end the job saw, or holding a record of it (after the job: the job is first).
            moved = [p for p in wait.ends if p in assigned and p not in heads]
            behind: list[Position] = []
            if moved:
                positions = self._consumer.positions()
                behind += [p for p in moved if positions.get(p, -1) < wait.ends[p]]
            if not others:
                return behind
            unknown = [p for p in others if p not in wait.ends]
            if unknown:
                wait.ends.update(self._consumer.end_offsets(unknown))
            ends = {p: wait.ends[p] for p in others}
            with self._engine.connect().execution_options(**{READ_ONLY: True}) as connection:
                written = read_progress(connection, self._consumer.group_id, list(ends))
        except (KafkaError, SQLAlchemyError, TransientError) as exc:
            log.debug("group progress unavailable", error_class=type(exc).__name__)
            return None
        progress = of_current_topics(written, self._consumer.topic_ids(self._topics))
        return sorted(behind + partitions_behind(job, ends, progress))

    def _finish(self, wait: _Wait, outcome: str, now: float) -> None:
        self._wait = None
        self._first_held.pop(wait.record, None)
        if outcome == "caught_up" and not wait.held:
            return  # the first look found nothing behind: no wait, nothing to count
        MATCH_WAITS.labels(outcome).inc()
        if outcome == "caught_up":
            log.info(
                "job released: the group caught up",
                **_where(wait),
                waited_s=round(now - wait.started, 3),
            )

    def publish(
        self, heads: Mapping[Position, Held[Any]], last_applied: Mapping[Position, datetime]
    ) -> None:
        """Between batches: write this worker's progress where it changed, at most a few
        times a second, and all of it every few seconds. Not while it owns every partition:
        nobody else decides anything."""
        now = self._clock()
        if now < self._publish_due:
            return
        self._publish_due = now + _PUBLISH_EVERY_S
        assigned = self._consumer.assigned
        if self._consumer.partitions_of(self._subscribed) <= assigned:
            self._published = {}  # written again in full once the group has others
            return
        mine = {p for p in assigned if p[0] in self._topics}
        if now >= self._rewrite_due:
            self._rewrite_due = now + _REWRITE_EVERY_S
            self._published = {}
        # A partition that left and came back is written again: another owner wrote since.
        self._published = {p: s for p, s in self._published.items() if p in mine}
        progress = own_progress(
            mine,
            heads,
            last_applied,
            self._consumer.positions(),
            self._consumer.topic_ids(self._topics),
        )
        changed = {p: s for p, s in progress.items() if self._published.get(p) != s}
        if not changed:
            return
        group = self._consumer.group_id
        try:
            in_transaction(
                self._engine,
                lambda c: write_progress(c, group, changed, datetime.now(UTC)),
                lock_wait_ms=_PUBLISH_LOCK_WAIT_MS,
            )
        except (SQLAlchemyError, TransientError) as exc:
            log.debug("group progress not written", error_class=type(exc).__name__)
            return
        self._published.update(changed)
