"""Consumers never create the topics they read.

A broker with `auto.create.topics.enable` (Kafka's default, and the local broker's) creates a
topic that a metadata request names, with the broker's default partition count. A worker
subscribed to a misspelt topic, or to one deleted for a re-creation, would bring it back with
one partition, and a group can have only one active member per partition.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.fixtures.kafka import MakeTopic
from worker.kafka.consumer import BatchConsumer
from worker.kafka.records import Record
from worker.settings import Settings

pytestmark = pytest.mark.kafka

PARTITIONS = 3


def _publish_one_per_partition(bootstrap: str, topic: str) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for partition in range(PARTITIONS):
            producer.send(topic, value=f"{partition}".encode(), partition=partition)
        producer.flush()
    finally:
        producer.close()


def _poll_until(consumer: BatchConsumer, count: int, timeout_s: float = 60) -> list[Record]:
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(records)} of {count} records within {timeout_s} s")
        records += consumer.poll(0.5)
        consumer.commit(records)
    return records


def test_a_subscription_to_a_missing_topic_creates_nothing_and_reads_the_topic_once_created(
    kafka_bootstrap: str, kafka_admin: Any, make_topic: MakeTopic, topic_name: str, group_id: str
) -> None:
    settings = Settings(_env_file=None, kafka_bootstrap_servers=kafka_bootstrap)
    consumer = BatchConsumer(settings, group_id, [topic_name])
    try:
        # Every poll while the topic is missing asks the broker for its metadata again.
        for _ in range(6):
            assert consumer.poll(0.5) == []
        assert topic_name not in kafka_admin.list_topics()

        make_topic(PARTITIONS, name=topic_name)
        _publish_one_per_partition(kafka_bootstrap, topic_name)
        records = _poll_until(consumer, PARTITIONS)
        assert sorted(r.partition for r in records) == list(range(PARTITIONS))
        assert consumer.assigned == {(topic_name, p) for p in range(PARTITIONS)}
    finally:
        consumer.close()


def test_the_partitions_of_a_missing_topic_are_none_without_asking_the_broker(
    kafka_bootstrap: str, make_topic: MakeTopic, topic_name: str, group_id: str
) -> None:
    """The group order asks between batches which partitions its topics have. A topic the
    client does not know made kafka-python fetch every topic's metadata and wait for it
    without a bound (hanging the loop while the broker was away); the client's own view of
    its subscribed topics is current enough."""
    existing = make_topic(PARTITIONS)
    settings = Settings(_env_file=None, kafka_bootstrap_servers=kafka_bootstrap)
    consumer = BatchConsumer(settings, group_id, [existing, topic_name])
    try:
        _poll_until_assigned(consumer)
        fetched: list[str] = []
        client = consumer._consumer
        client._fetch_all_topic_metadata = lambda: fetched.append("all topics")
        assert consumer.partitions_of([existing, topic_name]) == {
            (existing, p) for p in range(PARTITIONS)
        }
        assert fetched == []
    finally:
        consumer.close()


def _poll_until_assigned(consumer: BatchConsumer, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not consumer.assigned:
        if time.monotonic() > deadline:
            raise AssertionError(f"no assignment within {timeout_s} s")
        consumer.poll(0.2)
