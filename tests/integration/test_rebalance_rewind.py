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
from kafka import KafkaConsumer

from tests.fixtures.kafka import MakeTopic, publish_numbers
from worker.kafka.consumer import BatchConsumer, Position
from worker.kafka.records import Record
from worker.settings import Settings

pytestmark = pytest.mark.kafka


def _poll_until_records(consumer: BatchConsumer) -> list[Record]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        records = consumer.poll(1.0)
        if records:
            return records
    raise AssertionError("no records within 60 s")


def _wait_paused_until_revoked(consumer: BatchConsumer, joined: threading.Event) -> set[Position]:
    """As a loop waiting out an outage does: partitions paused, polling, batch uncommitted."""
    gone: set[Position] = set()
    deadline = time.monotonic() + 60
    while not (gone and joined.is_set()):
        if time.monotonic() > deadline:
            raise AssertionError("no rebalance within 60 s")
        consumer.poll_paused(0.2)
        gone |= consumer.partitions_gone()
    return gone


def test_records_dropped_at_a_revoke_come_again_when_the_partition_comes_back(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    ours, theirs = make_topic(1), make_topic(1)
    publish_numbers(kafka_bootstrap, ours, 10)
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap, kafka_session_timeout_ms=6000)
    consumer = BatchConsumer(settings, group_id, [ours], max_records=3)
    joined, leave = threading.Event(), threading.Event()

    def another_member() -> None:
        # Joins the group for another topic: the group rebalances, and `ours` stays ours.
        other = KafkaConsumer(
            bootstrap_servers=kafka_bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            session_timeout_ms=6000,
        )
        other.subscribe([theirs])
        try:
            while not leave.is_set():
                other.poll(timeout_ms=200)
                if other.assignment():
                    joined.set()
        finally:
            other.close(autocommit=False)

    member = threading.Thread(target=another_member)
    try:
        assert [r.offset for r in _poll_until_records(consumer)] == [0, 1, 2]
        member.start()
        assert _wait_paused_until_revoked(consumer, joined) == {(ours, 0)}
        assert consumer.assigned == {(ours, 0)}  # given straight back
        consumer.resume()
        # The loop dropped the batch in hand; the partition is read again from its commit.
        assert [r.offset for r in _poll_until_records(consumer)] == [0, 1, 2]
    finally:
        leave.set()
        if member.is_alive():
            member.join(timeout=30)
        consumer.close()
