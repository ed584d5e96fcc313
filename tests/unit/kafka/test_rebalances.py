"""What the rebalance listener does with partitions that go away."""

from __future__ import annotations

from kafka import TopicPartition
from prometheus_client import REGISTRY

from worker.kafka.consumer import _Rebalances
from worker.runtime.metrics import CONSUMER_LAG

TOPIC = "test-rebalances"


def _lag(partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        "reengage_consumer_lag", {"topic": TOPIC, "partition": str(partition)}
    )


def test_partitions_that_go_away_stop_reporting_lag_and_are_handed_back_once() -> None:
    told: list[list[TopicPartition]] = []
    listener = _Rebalances(before_forgetting=told.append)
    listener.on_partitions_assigned([TopicPartition(TOPIC, p) for p in (0, 1, 2)])
    for partition in (0, 1, 2):
        CONSUMER_LAG.labels(TOPIC, str(partition)).set(10 + partition)

    listener.on_partitions_revoked([TopicPartition(TOPIC, 0)])
    listener.on_partitions_lost([TopicPartition(TOPIC, 1), TopicPartition(TOPIC, 9)])

    assert (_lag(0), _lag(1), _lag(2)) == (None, None, 12.0)
    assert listener.assigned == {(TOPIC, 2)}
    assert listener.take_gone() == {(TOPIC, 0), (TOPIC, 1), (TOPIC, 9)}
    assert listener.take_gone() == set()
    # Told first, while still assigned, so the consumer can move them back (consumer.py).
    assert told == [
        [TopicPartition(TOPIC, 0)],
        [TopicPartition(TOPIC, 1), TopicPartition(TOPIC, 9)],
    ]
