"""reengage_consumer_lag, from the real broker: the records after the last commit."""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Connection, event

from tests.fixtures.kafka import MakeTopic, publish_numbers
from tests.integration.worker.harness import publish
from tests.integration.worker.pools import make_pool
from worker.commands.worker import ingest_loop
from worker.kafka.consumer import BatchConsumer
from worker.kafka.producer import Producer
from worker.runtime.shutdown import Shutdown
from worker.settings import Settings
from worker.store.engine import create_store_engine

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


def test_the_worker_counts_the_batch_it_is_applying_as_lag(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str, migrated: str
) -> None:
    """A batch can take many seconds (a job with thousands of matches): until its offsets
    are committed its records are behind, and the gauge says so while it is applied."""
    candidates = make_topic(1)
    publish(kafka_bootstrap, candidates, make_pool(seed=3, size=5).messages())
    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=migrated,
        topic_jobs=make_topic(1),
        topic_candidates=candidates,
        topic_status=make_topic(1),
        topic_outreach=make_topic(1),
    )
    engine = create_store_engine(migrated)
    consumer = BatchConsumer(
        settings, group_id, [settings.topic_jobs, candidates, settings.topic_status]
    )
    producer = Producer(settings)
    shutdown = Shutdown()
    lag_at_database_commit: list[float | None] = []

    def note_lag(_connection: Connection) -> None:
        lag_at_database_commit.append(_lag(candidates))

    event.listen(engine, "commit", note_lag)
    loop = ingest_loop(
        settings, engine, consumer, producer, shutdown, after_commit=shutdown.request
    )
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert lag_at_database_commit[-1] == 5  # the batch's own commit, the last one
        assert _lag(candidates) == 0  # and once the offsets are committed, nothing is behind
    finally:
        shutdown.request()
        thread.join(timeout=10)
        consumer.close()
        producer.close()
        engine.dispose()
