"""The group order's bookkeeping between two real members of one group (group_order.py).

A consumer of the test's and a plain group member in another process share the group, so the
test's owns some partitions and sees the others as another worker's; progress goes to a real
SQLite store. The clock is injected: the bounds
here are minutes and seconds of the group order's own, not of the broker.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine

from tests.fixtures.kafka import MakeTopic
from worker.ingest.group_order import GroupOrder
from worker.ingest.holding import Held
from worker.kafka.consumer import BatchConsumer
from worker.kafka.records import Position, Record
from worker.settings import Settings
from worker.store.engine import create_store_engine
from worker.store.progress import PartitionProgress, read_progress, write_progress
from worker.store.versioning import migrate

pytestmark = pytest.mark.kafka

T = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Group:
    jobs: str
    candidates: str
    status: str
    member: BatchConsumer
    engine: Engine
    bootstrap: str

    def order(self, member: BatchConsumer, clock: Clock, max_wait_s: float = 120) -> GroupOrder:
        return GroupOrder(
            self.engine,
            member,
            (self.candidates, self.status),
            max_wait_s,
            subscribed=(self.jobs, self.candidates, self.status),
            clock=clock,
        )

    def progress(self) -> dict[Position, PartitionProgress]:
        every = [(self.candidates, 0), (self.candidates, 1), (self.status, 0)]
        with self.engine.connect() as connection:
            return read_progress(connection, self.member.group_id, every)


# The other member: a plain group member in a process of its own, as another worker is (two
# members polled from one process stalled each other's rebalances on this loaded machine).
_OTHER_MEMBER = """
import sys
from kafka import KafkaConsumer
bootstrap, group, *topics = sys.argv[1:]
consumer = KafkaConsumer(
    bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
    session_timeout_ms=10_000, heartbeat_interval_ms=2_000,
)
consumer.subscribe(topics)
announced = False
while True:
    consumer.poll(timeout_ms=200)
    if consumer.assignment() and not announced:
        print("assigned", flush=True)
        announced = True
"""


@pytest.fixture
def group(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str, sqlite_url: str
) -> Iterator[Group]:
    jobs, candidates, status = make_topic(1), make_topic(2), make_topic(1)
    topics = [jobs, candidates, status]
    migrate(sqlite_url)
    engine = create_store_engine(sqlite_url)
    other = subprocess.Popen(
        [sys.executable, "-c", _OTHER_MEMBER, kafka_bootstrap, group_id, *topics],
        stdout=subprocess.PIPE,
        text=True,
    )
    settings = Settings(
        _env_file=None, kafka_bootstrap_servers=kafka_bootstrap, kafka_session_timeout_ms=10_000
    )
    member: BatchConsumer | None = None
    try:
        assert other.stdout is not None
        ready, _, _ = select.select([other.stdout], [], [], 60)
        assert ready and other.stdout.readline() == "assigned\n", "the other member did not join"
        member = BatchConsumer(settings, group_id, topics)
        _settle(member, total=4)
        yield Group(jobs, candidates, status, member, engine, kafka_bootstrap)
    finally:
        if member is not None:
            member.close()
        other.kill()
        other.wait()
        engine.dispose()


def _settle(member: BatchConsumer, total: int) -> None:
    """Until the member shares the partitions with the other one: the range assignor gives
    each one of the two candidate partitions."""
    deadline = time.monotonic() + 60
    while not (member.assigned and len(member.assigned) < total):
        if time.monotonic() > deadline:
            raise AssertionError(f"no share of the partitions within 60 s: {member.assigned}")
        member.poll(0.2)  # the topics are empty: nothing is handed out


def _candidate_partitions(group: Group, member: BatchConsumer) -> list[Position]:
    return sorted(p for p in member.assigned if p[0] in (group.candidates, group.status))


def _job(
    group: Group, offset: int, at: datetime
) -> tuple[Record, datetime, dict[Position, Held[str]]]:
    record = Record(group.jobs, 0, offset, None, b"")
    return record, at, {(group.jobs, 0): Held(record, "job", at)}


def _record_on_the_other_members_partition(group: Group) -> Position:
    """A record on the other member's candidate partition, which that member (a plain
    consumer) never tells the group it applied; that partition."""
    other = next(
        (group.candidates, p) for p in (0, 1) if (group.candidates, p) not in group.member.assigned
    )
    producer = KafkaProducer(bootstrap_servers=group.bootstrap)
    producer.send(other[0], b"unapplied", partition=other[1]).get(timeout=30)
    producer.close()
    return other


def test_a_member_with_the_wait_off_still_tells_the_group_how_far_it_is(group: Group) -> None:
    """Its own jobs do not wait, but the other members' jobs wait on its partitions: without
    its progress they waited their full bound for every job."""
    mine = _candidate_partitions(group, group.member)
    assert mine  # the range assignor gives each member one of the two candidate partitions
    group.order(group.member, Clock(), max_wait_s=0).publish({}, {})
    assert set(group.progress()) == set(mine)


def test_a_row_written_over_by_a_former_owner_is_put_right_within_seconds(group: Group) -> None:
    """A member evicted but not told yet may write its old view once over the new owner's.
    The owner rewrites all its rows every few seconds, not only those that changed: a
    partition at rest would otherwise keep the old view, and every job elsewhere wait on it."""
    member = group.member
    assert _candidate_partitions(group, member)
    clock = Clock()
    order = group.order(member, clock)
    order.publish({}, {p: T for p in _candidate_partitions(group, member)})
    written = group.progress()
    stale = {p: PartitionProgress(None, None) for p in written}
    with group.engine.begin() as connection:
        write_progress(connection, member.group_id, stale, datetime.now(UTC))

    clock.now += 1  # a change would be written now; nothing changed
    order.publish({}, {p: T for p in _candidate_partitions(group, member)})
    assert group.progress() == stale
    clock.now += 5
    order.publish({}, {p: T for p in _candidate_partitions(group, member)})
    assert group.progress() == written


def test_a_job_bound_counts_from_when_it_was_first_held(group: Group) -> None:
    """An earlier job coming to wait first does not start the later one's bound again: it
    is decided once its own bound is out, right after the earlier one."""
    waiter = group.member
    _record_on_the_other_members_partition(group)
    clock = Clock()
    order = group.order(waiter, clock)

    later = _job(group, 5, T + timedelta(hours=1))
    assert not order.allows(*later)  # the owner has not told how far it is: behind
    clock.now += 60
    earlier = _job(group, 4, T)  # an earlier opening arrives and waits first
    assert not order.allows(*earlier)
    clock.now += 121
    assert order.allows(*earlier)  # its bound is out
    assert order.allows(*later)  # so is the later one's, counted from its first hold


def test_only_this_groups_rows_about_the_topic_as_it_is_let_a_job_go(group: Group) -> None:
    """A row another consumer group wrote, or one written before the topic was deleted and
    created again (its offsets start again at 0: an old row's 1,000 would claim the new
    topic's records applied), says nothing of this group's progress on this topic."""
    waiter = group.member
    behind = _record_on_the_other_members_partition(group)
    topic_id = waiter.topic_ids([group.candidates])[group.candidates]
    assert topic_id is not None  # the broker names its topics (Kafka 2.8 and later)
    claims = PartitionProgress(None, 1_000, topic_id)
    with group.engine.begin() as connection:
        write_progress(connection, "another-group", {behind: claims}, datetime.now(UTC))
        earlier_topic = PartitionProgress(None, 1_000, str(uuid.uuid4()))
        write_progress(connection, waiter.group_id, {behind: earlier_topic}, datetime.now(UTC))
    clock = Clock()
    order = group.order(waiter, clock)
    job = _job(group, 0, T)
    assert not order.allows(*job)

    with group.engine.begin() as connection:
        write_progress(connection, waiter.group_id, {behind: claims}, datetime.now(UTC))
    clock.now += 1
    assert order.allows(*job)  # the same claim, by this group about this topic: caught up
