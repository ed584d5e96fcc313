"""reengage_consumer_lag, from the real broker: what is left behind the batch just polled."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaProducer
from prometheus_client import REGISTRY

from tests.fixtures.kafka import MakeTopic
from worker.kafka.consumer import BatchConsumer
from worker.settings import Settings

pytestmark = pytest.mark.kafka


def _lag(topic: str) -> float | None:
    return REGISTRY.get_sample_value("reengage_consumer_lag", {"topic": topic, "partition": "0"})


def test_lag_counts_what_is_left_behind_the_batch(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    topic = make_topic(1)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for n in range(30):
        producer.send(topic, value=f"{n}".encode())
    producer.flush()
    producer.close()
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap)
    consumer = BatchConsumer(settings, group_id, [topic], max_records=10)
    try:
        deadline = time.monotonic() + 30
        records = []
        while not records and time.monotonic() < deadline:
            records = consumer.poll(1.0)
        assert len(records) == 10
        consumer.update_lag()
        assert _lag(topic) == 20
    finally:
        consumer.close()
