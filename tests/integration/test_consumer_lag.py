"""reengage_consumer_lag, from the real broker: the records after the last commit."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from tests.fixtures.kafka import MakeTopic, publish_numbers
from worker.kafka.consumer import BatchConsumer
from worker.settings import Settings

pytestmark = pytest.mark.kafka


def _lag(topic: str) -> float | None:
    return REGISTRY.get_sample_value("reengage_consumer_lag", {"topic": topic, "partition": "0"})


def test_lag_counts_from_the_last_commit_and_sees_the_backlog_grow_while_waiting(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    topic = make_topic(1)
    publish_numbers(kafka_bootstrap, topic, 30)
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap)
    consumer = BatchConsumer(settings, group_id, [topic], max_records=10)
    try:
        deadline = time.monotonic() + 30
        records = []
        while not records and time.monotonic() < deadline:
            records = consumer.poll(1.0)
        assert len(records) == 10
        consumer.update_lag()
        assert _lag(topic) == 30  # the batch in hand is not done until it is committed
        assert consumer.commit(records[:4])  # part of it, as the mailer commits as it goes
        consumer.update_lag()
        assert _lag(topic) == 26
        assert consumer.commit(records)
        consumer.update_lag()
        assert _lag(topic) == 20

        # Waiting out an outage: the batch in hand stays uncommitted, the partitions are
        # paused, and the ATS keeps publishing.
        in_hand = consumer.poll(1.0)
        assert in_hand
        consumer.poll_paused(0.2)
        publish_numbers(kafka_bootstrap, topic, 5)
        consumer.update_lag(ask_broker=True)
        assert _lag(topic) == 25
    finally:
        consumer.close()
