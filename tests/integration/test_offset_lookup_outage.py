"""A broker that hangs while a new partition's committed offset is looked up.

A partition this group never committed makes the client raise, and the consumer then asks
the broker for each assigned partition's committed offset. That question once had no time
limit but kafka-python's request timeout (5 minutes): a SIGTERM in that moment went
unanswered far past the 10 s that OPERATIONS.md promises. Now the poll gives up after a
moment, hands out nothing, and the next poll asks again.

The hang is real: the session's broker is stopped (SIGSTOP) at the moment of the question.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import pytest

from tests.fixtures.kafka import FreezeBroker, MakeTopic, poll_until_records, publish_numbers
from worker.kafka.consumer import BatchConsumer
from worker.kafka.records import Record
from worker.settings import Settings

pytestmark = pytest.mark.kafka

# Far above the consumer's own bound and far below kafka-python's request timeout (305 s):
# it tells a poll that gave up from one that waits on the broker.
_HUNG_POLL_S = 60


def test_a_poll_that_meets_a_hung_broker_looking_up_offsets_returns_and_loses_nothing(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str, freeze_broker: FreezeBroker
) -> None:
    topic = make_topic(1)
    publish_numbers(kafka_bootstrap, topic, 3)
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap, kafka_session_timeout_ms=6000)
    consumer = BatchConsumer(settings, group_id, [topic])
    outage = contextlib.ExitStack()
    lookups: list[object] = []
    ask_broker = consumer._consumer.committed

    def hang_first(*args: Any, **kwargs: Any) -> Any:
        if not lookups:
            outage.enter_context(freeze_broker())
        lookups.append(args)
        return ask_broker(*args, **kwargs)

    consumer._consumer.committed = hang_first
    try:
        with outage:
            handed_out = _poll_until_the_lookup(consumer, lookups)
        assert handed_out == []
        records = poll_until_records(consumer)
        assert [r.offset for r in records] == [0, 1, 2]  # from the beginning, as before
        assert len(lookups) >= 2  # asked again once the broker answered
    finally:
        consumer.close()


def _poll_until_the_lookup(consumer: BatchConsumer, lookups: list[object]) -> list[Record]:
    """Polls until one poll has looked up a committed offset; that poll's records."""
    deadline = time.monotonic() + 60
    while True:
        records = _poll_in_a_thread(consumer)
        if lookups:
            return records
        assert time.monotonic() < deadline, "no committed-offset lookup within 60 s"


def _poll_in_a_thread(consumer: BatchConsumer) -> list[Record]:
    """So that a poll waiting on the hung broker fails the test instead of stalling it."""
    result: list[list[Record]] = []
    poll = threading.Thread(target=lambda: result.append(consumer.poll(0.5)), daemon=True)
    poll.start()
    poll.join(_HUNG_POLL_S)
    assert not poll.is_alive(), f"a poll still waited on the hung broker after {_HUNG_POLL_S} s"
    return result[0]
