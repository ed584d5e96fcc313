"""Which partition the stop message names for a record the Kafka client cannot read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition
from kafka.errors import CorruptRecordError

from worker.kafka.consumer import BatchConsumer

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


@dataclass
class _Kept:
    """kafka-python's record of an error kept for the next poll."""

    partition: TopicPartition
    exception: Exception


@dataclass
class _Reading:
    topic_partition: TopicPartition


@dataclass
class _Fetcher:
    _next_partition_records: _Reading | None = None


@dataclass
class _Client:
    _fetcher: _Fetcher = field(default_factory=_Fetcher)

    def assignment(self) -> set[TopicPartition]:
        return {A, B}

    def highwater(self, _tp: TopicPartition) -> int:
        return 100


def _consumer(reading: TopicPartition | None) -> Any:
    consumer = object.__new__(BatchConsumer)
    consumer._consumer = _Client(_Fetcher(_Reading(reading) if reading else None))
    return consumer


def test_the_partition_of_the_kept_error_when_that_is_the_error_raised() -> None:
    raised = CorruptRecordError("bad header")
    stuck = _consumer(B)._stuck_partitions({}, _Kept(A, raised), raised)
    assert stuck == [A]


def test_a_kept_error_that_was_not_raised_names_nothing() -> None:
    """Its partition moved (given back to an earlier offset) and the client dropped it: the
    error raised is another one, from the partition being read."""
    stuck = _consumer(B)._stuck_partitions(
        {}, _Kept(A, CorruptRecordError("old")), CorruptRecordError("new")
    )
    assert stuck == [B]


def test_without_either_every_partition_not_read_to_its_end() -> None:
    stuck = _consumer(None)._stuck_partitions(
        {("t", 0): 100, ("t", 1): 7}, None, CorruptRecordError()
    )
    assert stuck == [B]
