"""A record kafka-python cannot parse (a header key that is not UTF-8, which other clients
let through): the consumer stops and says where it is, rather than looping or skipping it."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaProducer

from tests.fixtures.kafka import MakeTopic
from worker.kafka.consumer import BatchConsumer, UnreadableRecordError
from worker.kafka.records import Record
from worker.settings import Settings

pytestmark = pytest.mark.kafka


class _NotUtf8Key(str):
    """A header key whose wire bytes are not UTF-8, as a librdkafka or Go producer can send
    (kafka-python's producer encodes keys itself, hence the stand-in)."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"\xff\xfe-key"


def test_an_unreadable_record_stops_the_consumer_naming_its_partition_and_offset(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    topic = make_topic(1)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(topic, value=b"good 0").get(timeout=10)
    producer.send(topic, value=b"good 1").get(timeout=10)
    producer.send(topic, value=b"bad", headers=[(_NotUtf8Key("k"), b"v")]).get(timeout=10)
    producer.send(topic, value=b"good 3").get(timeout=10)
    producer.close()
    consumer = BatchConsumer(
        Settings(kafka_bootstrap_servers=kafka_bootstrap), group_id, [topic], max_records=10
    )
    read: list[Record] = []
    try:
        deadline = time.monotonic() + 30
        with pytest.raises(UnreadableRecordError) as stopped:
            while time.monotonic() < deadline:
                read += consumer.poll(1.0)
    finally:
        consumer.close()
    assert [r.value for r in read] == [b"good 0", b"good 1"]
    message = str(stopped.value)
    assert f"{topic} partition 0 offset 2" in message
    assert group_id in message
    assert "\\xff" not in message  # the record's bytes are not quoted


def test_among_partitions_with_a_backlog_the_message_names_the_one_that_is_stuck(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    """Shifting a partition that is not stuck would skip a valid record: name only the one."""
    topic = make_topic(3)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for partition in (0, 2):
        for n in range(200):
            producer.send(topic, value=f"good {n}".encode(), partition=partition)
    producer.send(topic, value=b"good", partition=1).get(timeout=10)
    producer.send(topic, value=b"bad", partition=1, headers=[(_NotUtf8Key("k"), b"v")])
    producer.flush()
    producer.close()
    consumer = BatchConsumer(
        Settings(kafka_bootstrap_servers=kafka_bootstrap), group_id, [topic], max_records=5
    )
    try:
        deadline = time.monotonic() + 30
        with pytest.raises(UnreadableRecordError) as stopped:
            while time.monotonic() < deadline:
                consumer.poll(1.0)
    finally:
        consumer.close()
    message = str(stopped.value)
    assert f"It is at {topic} partition 1 offset 1." in message
