"""A broker outage longer than the producer's delivery timeout, against the real broker: the
producer sends again once the broker is back, rather than never (kafka-python 3.0.12 alone)."""

from __future__ import annotations

import time

import pytest
from kafka.errors import KafkaTimeoutError

from tests.fixtures.kafka import FreezeBroker
from tests.integration.worker.harness import read_until
from worker.kafka.producer import Outgoing, Producer, recover_producer_id
from worker.settings import Settings

pytestmark = pytest.mark.kafka

# Seconds rather than kafka-python's two minutes, so that a batch expires within the test.
SHORT_TIMEOUTS = {"request_timeout_ms": 1_000, "delivery_timeout_ms": 2_000}


def _expire_a_sent_batch(producer: Producer, topic: str, freeze_broker: FreezeBroker) -> None:
    """A send, then one that the stopped broker never answers, so that it expires."""
    producer.send_all([Outgoing(topic, b"k", b"before")])
    with freeze_broker(), pytest.raises(KafkaTimeoutError):
        producer.send_all([Outgoing(topic, b"k", b"lost in the outage")], timeout_s=10)


def test_a_producer_sends_again_after_its_batch_expired_in_an_outage(
    kafka_bootstrap: str, make_topic, freeze_broker: FreezeBroker
) -> None:
    topic = make_topic(1)
    producer = Producer(Settings(kafka_bootstrap_servers=kafka_bootstrap), **SHORT_TIMEOUTS)
    try:
        _expire_a_sent_batch(producer, topic, freeze_broker)
        producer.send_all([Outgoing(topic, b"k", b"after")], timeout_s=10)
    finally:
        producer.close()
    records = read_until(kafka_bootstrap, topic, lambda r: len(r) >= 2, settle_s=0.5)
    assert [r.value for r in records if r.value != b"lost in the outage"] == [b"before", b"after"]


def test_kafka_python_still_strands_a_producer_that_lost_its_id(
    kafka_bootstrap: str, make_topic, freeze_broker: FreezeBroker
) -> None:
    """Why `recover_producer_id` exists. When this fails, kafka-python asks for a new producer
    id by itself and the recovery can go."""
    producer = Producer(Settings(kafka_bootstrap_servers=kafka_bootstrap), **SHORT_TIMEOUTS)
    try:
        _expire_a_sent_batch(producer, make_topic(1), freeze_broker)
        # kafka-python fails the expired batch's future first, then drops the id.
        deadline = time.monotonic() + 5
        recovered = recover_producer_id(producer._producer)
        while not recovered and time.monotonic() < deadline:
            time.sleep(0.05)
            recovered = recover_producer_id(producer._producer)
        assert recovered, "the producer kept its id, or asked for a new one by itself"
    finally:
        producer.close()
