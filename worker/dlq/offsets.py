"""Reads, before a replay starts, where its group stands in the dead-letter topic and where
each partition ends. A short-lived consumer that never joins the group, so measuring does
not rebalance anyone."""

from __future__ import annotations

from kafka import TopicPartition

from worker.dlq.backlog import Span
from worker.errors import FatalError
from worker.kafka.config import consumer_options
from worker.kafka.consumer import new_consumer
from worker.runtime.shutdown import Shutdown
from worker.runtime.startup import connect_to_broker
from worker.settings import Settings


class NoSuchTopicError(Exception):
    def __init__(self, topic: str) -> None:
        super().__init__(f"{topic} does not exist")
        self.topic = topic


class DeadLettersExpiredError(FatalError):
    """Retention deleted dead letters this group had not replayed yet. Jumping over the gap
    silently would hide the loss; the operator decides."""

    def __init__(self, topic: str, partition: int, committed: int, first: int, group: str) -> None:
        super().__init__(
            f"{topic} partition {partition}: dead letters at offsets {committed}-{first - 1} "
            f"expired (retention) before they were replayed; to go on, move group {group} to "
            f"the earliest offset (kafka-consumer-groups --reset-offsets --to-earliest)"
        )


def measure(
    settings: Settings, group_id: str, topic: str, shutdown: Shutdown | None = None
) -> dict[int, Span]:
    """Per partition of `topic`: the span a replay by `group_id` would cover now. A broker
    that does not answer is waited for as at every start-up; with `shutdown`, a signal ends
    the wait (`Interrupted`)."""
    consumer = connect_to_broker(
        lambda: new_consumer(consumer_options(settings, group_id)),
        timeout_s=settings.startup_timeout_seconds,
        shutdown=shutdown,
    )
    try:
        partitions = sorted(consumer.partitions_for_topic(topic))
        if not partitions:
            raise NoSuchTopicError(topic)
        tps = [TopicPartition(topic, p) for p in partitions]
        firsts = consumer.beginning_offsets(tps)
        ends = consumer.end_offsets(tps)
        spans: dict[int, Span] = {}
        for tp in tps:
            committed: int | None = consumer.committed(tp)
            if committed is not None and committed < firsts[tp]:
                raise DeadLettersExpiredError(topic, tp.partition, committed, firsts[tp], group_id)
            start = firsts[tp] if committed is None else committed
            spans[tp.partition] = Span(start, ends[tp])
        return spans
    finally:
        consumer.close(autocommit=False)
