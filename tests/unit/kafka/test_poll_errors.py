"""What a poll does with an error from the Kafka client: a retriable one (the broker going
away) is one empty poll; anything else, such as an offset out of range, is raised."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaConnectionError, KafkaError, OffsetOutOfRangeError

from worker.kafka.consumer import BatchConsumer, CommittedOffsetGoneError


class _Raising:
    def __init__(self, error: KafkaError) -> None:
        self._error = error

    def poll(self, timeout_ms: int) -> dict[Any, list[Any]]:
        raise self._error


def _consumer(error: KafkaError) -> BatchConsumer:
    consumer = object.__new__(BatchConsumer)
    consumer._consumer = _Raising(error)  # type: ignore[assignment]
    consumer._first_uncommitted = {}
    consumer._last_handed_out = {}
    consumer._max_records = 500
    consumer.group_id = "reengage-worker"
    return consumer


def test_a_connection_lost_mid_poll_is_an_empty_poll() -> None:
    assert _consumer(KafkaConnectionError("gone")).poll(0.1) == []


def test_an_offset_out_of_range_stops_saying_where_and_how_to_go_on() -> None:
    gone = OffsetOutOfRangeError({TopicPartition("ats.jobs", 2): 41})
    with pytest.raises(CommittedOffsetGoneError) as stopped:
        _consumer(gone).poll(0.1)
    message = str(stopped.value)
    assert "ats.jobs partition 2 at offset 41" in message
    assert "Nothing was skipped" in message and "--group reengage-worker" in message
