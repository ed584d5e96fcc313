"""BatchConsumer.may_have_more, against the real broker: the event-time merge releases a
partition's records only while every other partition that may hold earlier ones is known, so
a partition whose records the client already holds (fetched, not handed out) must be named.

kafka-python learns a partition's end when it hands out that partition's fetched records,
not when the fetch arrives: after a poll cut short by `max_records`, the ends of the
partitions still waiting in the client are those of the previous fetch."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.kafka import MakeTopic, poll_until_records, publish_numbers
from worker.kafka import consumer as consumer_module
from worker.kafka.consumer import BatchConsumer
from worker.kafka.records import Position, Record
from worker.settings import Settings

pytestmark = pytest.mark.kafka

_PARTITIONS = 3
_PER_PARTITION = 6


def _read_to_the_end(consumer: BatchConsumer, topic: str) -> None:
    """Every partition handed out to its end, so the client knows each end."""
    wanted = {(topic, partition): _PER_PARTITION for partition in range(_PARTITIONS)}
    deadline = time.monotonic() + 60
    while consumer.positions() != wanted or consumer.may_have_more():
        assert time.monotonic() < deadline, (consumer.positions(), consumer.may_have_more())
        consumer.poll(0.5)


@pytest.mark.parametrize("client_queues", ["read", "unknown"])
def test_a_partition_fetched_but_not_handed_out_may_have_more(
    kafka_bootstrap: str,
    make_topic: MakeTopic,
    group_id: str,
    client_queues: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `client_queues` "unknown", the client keeps its fetched records elsewhere than
    where BatchConsumer looks: it falls back to counting every partition after a full poll."""
    if client_queues == "unknown":
        monkeypatch.setattr(consumer_module, "_FETCHED_QUEUES", ("_not_a_queue_of_the_client",))
    topic = make_topic(_PARTITIONS)
    publish_numbers(kafka_bootstrap, topic, _PER_PARTITION, partitions=_PARTITIONS)
    consumer = BatchConsumer(
        Settings(kafka_bootstrap_servers=kafka_bootstrap), group_id, [topic], max_records=2
    )
    try:
        _read_to_the_end(consumer, topic)
        # No fetch may answer while the next records are published, or it could bring one
        # partition's and not the others' (a wait no client can know about without asking).
        consumer.poll_paused(1.0)
        consumer.poll_paused(1.0)
        publish_numbers(kafka_bootstrap, topic, _PER_PARTITION, partitions=_PARTITIONS)
        consumer.resume()

        handed_out: list[Record] = poll_until_records(consumer)
        assert len(handed_out) == 2  # cut short: the client holds the rest
        not_handed_out: set[Position] = {
            (topic, partition)
            for partition in range(_PARTITIONS)
            if consumer.positions()[(topic, partition)] < 2 * _PER_PARTITION
        }
        assert len(not_handed_out) >= _PARTITIONS - 1
        assert not_handed_out <= consumer.may_have_more()
    finally:
        consumer.close()
