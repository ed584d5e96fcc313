"""A record kafka-python cannot parse (a header key that is not UTF-8, which other clients
let through): the consumer stops and says where it is, rather than looping or skipping it."""

from __future__ import annotations

import threading
import time

import pytest
from kafka import KafkaProducer

from tests.fixtures.kafka import MakeTopic, NotUtf8HeaderKey, poll_until_records
from worker.kafka.consumer import BatchConsumer, UnreadableRecordError
from worker.kafka.records import Record
from worker.settings import Settings

pytestmark = pytest.mark.kafka


def test_an_unreadable_record_stops_the_consumer_naming_its_partition_and_offset(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    topic = make_topic(1)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(topic, value=b"good 0").get(timeout=10)
    producer.send(topic, value=b"good 1").get(timeout=10)
    producer.send(topic, value=b"bad", headers=[(NotUtf8HeaderKey("k"), b"v")]).get(timeout=10)
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
    producer.send(topic, value=b"bad", partition=1, headers=[(NotUtf8HeaderKey("k"), b"v")])
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


def test_a_wait_between_the_records_before_it_and_the_next_poll_does_not_lose_the_stop(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    """kafka-python keeps the error for the poll after the one that handed out the records
    before it, and dropped it when that poll was a paused one (a loop waiting between
    mails, or out an outage); its next poll then spun forever at 100% CPU."""
    topic = make_topic(1)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for n in range(3):
        producer.send(topic, value=f"good {n}".encode())
    producer.send(topic, value=b"bad", headers=[(NotUtf8HeaderKey("k"), b"v")]).get(timeout=10)
    producer.close()
    consumer = BatchConsumer(
        Settings(kafka_bootstrap_servers=kafka_bootstrap), group_id, [topic], max_records=10
    )
    outcome: list[object] = []

    def read_wait_read() -> None:
        try:
            outcome.append([r.value for r in poll_until_records(consumer)])
            consumer.poll_paused(0.2)
            consumer.resume()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                consumer.poll(1.0)
        except UnreadableRecordError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read_wait_read, daemon=True)
    reader.start()
    reader.join(60)
    try:
        assert not reader.is_alive(), "the poll after the wait never returned"
    finally:
        consumer.close()
    assert outcome[0] == [b"good 0", b"good 1", b"good 2"]
    assert isinstance(outcome[1], UnreadableRecordError)
    assert f"{topic} partition 0 offset 3" in str(outcome[1])
