"""BatchConsumer.pause_only, against the real broker: a partition paused for a while and
resumed hands out all its records, whichever the client was reading when it was paused.

kafka-python 3.0.12 parks the records it is reading of a partition that gets paused, and
gives them back on resume only if it has read nothing else meanwhile: pausing that partition
while others are fetched would stop it for good."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.kafka import MakeTopic, poll_until_records, publish_numbers
from worker.kafka.consumer import BatchConsumer
from worker.kafka.records import Record
from worker.settings import Settings

pytestmark = pytest.mark.kafka

_PARTITIONS = 3
_PER_PARTITION = 6


def test_a_partition_paused_mid_read_and_resumed_hands_out_every_record(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    topic = make_topic(_PARTITIONS)
    publish_numbers(kafka_bootstrap, topic, _PER_PARTITION, partitions=_PARTITIONS)
    consumer = BatchConsumer(
        Settings(kafka_bootstrap_servers=kafka_bootstrap), group_id, [topic], max_records=2
    )
    try:
        handed_out: list[Record] = poll_until_records(consumer)
        reading = handed_out[0].position  # cut short: the client holds the rest of it
        consumer.pause_only({reading})
        for _ in range(10):  # the other partitions are read meanwhile
            handed_out += consumer.poll(0.2)
        consumer.resume()
        deadline = time.monotonic() + 30
        while len(handed_out) < _PARTITIONS * _PER_PARTITION and time.monotonic() < deadline:
            handed_out += consumer.poll(0.2)
        per_partition = {
            partition: sorted(r.offset for r in handed_out if r.partition == partition)
            for partition in range(_PARTITIONS)
        }
        assert per_partition == {p: list(range(_PER_PARTITION)) for p in range(_PARTITIONS)}
    finally:
        consumer.close()
