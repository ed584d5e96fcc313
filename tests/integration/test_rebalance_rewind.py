"""A batch in hand when a rebalance gives its partition straight back to the same member.

kafka-python 3 keeps a partition's position across a rebalance that leaves it with the same
member. The loops drop the records in hand of every revoked partition, uncommitted, trusting
that the partition is read again from its committed offset; without a rewind those records
were skipped for good (and later commits moved past them).
"""

from __future__ import annotations

import threading
import time

import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.fixtures.kafka import MakeTopic, poll_until_records, publish_numbers
from worker.kafka.consumer import BatchConsumer, Position
from worker.settings import Settings

pytestmark = pytest.mark.kafka


def _wait_paused_until_revoked(consumer: BatchConsumer, joined: threading.Event) -> set[Position]:
    """As a loop waiting out an outage does: partitions paused, polling, batch uncommitted.
    Until the group is settled: the other member has joined and ours has its partition back
    (a join can take two rebalances; resuming in the middle of the second raced it in CI)."""
    gone: set[Position] = set()
    deadline = time.monotonic() + 60
    while not (gone and joined.is_set() and consumer.assigned):
        if time.monotonic() > deadline:
            raise AssertionError("no rebalance within 60 s")
        consumer.poll_paused(0.2)
        gone |= consumer.partitions_gone()
    return gone


class _AnotherMember:
    """Joins the group for another topic: the group rebalances, and our topic stays ours."""

    def __init__(self, bootstrap: str, group_id: str, topic: str) -> None:
        self._bootstrap, self._group_id, self._topic = bootstrap, group_id, topic
        self.joined, self._leave = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> _AnotherMember:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._leave.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        other = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            # Longer than ours: a member the loaded machine kept from heartbeating in time
            # stalled a rebalance in CI (no assignment for 57 s).
            session_timeout_ms=10_000,
            heartbeat_interval_ms=2_000,
        )
        other.subscribe([self._topic])
        try:
            while not self._leave.is_set():
                other.poll(timeout_ms=200)
                if other.assignment():
                    self.joined.set()
        finally:
            other.close(autocommit=False)


def _consumer(bootstrap: str, group_id: str, topic: str) -> BatchConsumer:
    settings = Settings(kafka_bootstrap_servers=bootstrap, kafka_session_timeout_ms=10_000)
    return BatchConsumer(settings, group_id, [topic], max_records=3)


def test_records_dropped_at_a_revoke_come_again_when_the_partition_comes_back(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    ours, theirs = make_topic(1), make_topic(1)
    publish_numbers(kafka_bootstrap, ours, 10)
    consumer = _consumer(kafka_bootstrap, group_id, ours)
    try:
        assert [r.offset for r in poll_until_records(consumer)] == [0, 1, 2]
        with _AnotherMember(kafka_bootstrap, group_id, theirs) as other:
            assert _wait_paused_until_revoked(consumer, other.joined) == {(ours, 0)}
            assert consumer.assigned == {(ours, 0)}  # given straight back
            consumer.resume()
            # The loop dropped the batch in hand; the partition is read again from its commit.
            assert [r.offset for r in poll_until_records(consumer)] == [0, 1, 2]
    finally:
        consumer.close()


def test_a_batch_handed_out_by_the_poll_that_saw_a_revoke_is_rewound_at_the_next(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    """One poll can run a revoke, get the partition back and hand out its records: those are
    in hand, and a second rebalance while they wait must still move the partition back."""
    ours, theirs = make_topic(1), make_topic(1)
    publish_numbers(kafka_bootstrap, ours, 10)
    consumer = _consumer(kafka_bootstrap, group_id, ours)
    try:
        _wait_until_assigned(consumer)
        # What kafka-python does at the start of such a poll (nothing is in hand yet).
        consumer._rebalances.on_partitions_revoked([TopicPartition(ours, 0)])
        assert [r.offset for r in poll_until_records(consumer)] == [0, 1, 2]
        assert consumer.partitions_gone() == {(ours, 0)}  # the loop: nothing in hand to drop
        with _AnotherMember(kafka_bootstrap, group_id, theirs) as other:
            assert _wait_paused_until_revoked(consumer, other.joined) == {(ours, 0)}
            consumer.resume()
            assert [r.offset for r in poll_until_records(consumer)] == [0, 1, 2]
    finally:
        consumer.close()


def _wait_until_assigned(consumer: BatchConsumer) -> None:
    """Joined, with nothing handed out: the partitions are paused while it waits."""
    deadline = time.monotonic() + 60
    while not consumer.assigned:
        if time.monotonic() > deadline:
            raise AssertionError("no assignment within 60 s")
        consumer.poll_paused(0.2)
    consumer.resume()
