"""A dead letter turned back into the message that failed: the inverse of `to_outgoing`.

The key and value bytes are unchanged; the record's own headers come back in their order
(a producer's own `dlq.*` ones too), without the ones that described the failure, plus one
header naming the dead letter the copy was replayed from. Should the copy fail again,
`to_outgoing` keeps that header, so the new dead letter shows it was a replayed copy, and
writes fresh failure headers; the next replay replaces it.
"""

from __future__ import annotations

from worker.kafka.dead_letters import (
    ORIGINAL_TOPIC_HEADER,
    OWN_HEADERS,
    original_topic,
    sendable_value,
)
from worker.kafka.producer import Outgoing
from worker.kafka.records import Record

# `{dlq topic}:{partition}:{offset}`; topic names cannot contain ':'.
REPLAYED_FROM_HEADER = "dlq.replayed.from"
_REPLACED = frozenset((*OWN_HEADERS, REPLAYED_FROM_HEADER))


def header(record: Record, name: str) -> bytes | None:
    """The last value of a header, as Kafka clients read repeated headers."""
    values = [value for key, value in record.headers if key == name]
    return values[-1] if values else None


def destination(record: Record) -> str:
    """The topic the dead letter came from: its `dlq.original.topic` header, or the
    dead-letter topic's name without `.dlq` when a producer left the header out."""
    named = header(record, ORIGINAL_TOPIC_HEADER)
    if named:
        return named.decode("utf-8", errors="replace")
    return original_topic(record.topic)


def replayed_from(record: Record) -> bytes:
    return f"{record.topic}:{record.partition}:{record.offset}".encode()


def original_message(record: Record) -> Outgoing:
    kept = tuple((k, v) for k, v in record.headers if k not in _REPLACED)
    return Outgoing(
        destination(record),
        record.key,
        sendable_value(record.key, record.value),
        (*kept, (REPLAYED_FROM_HEADER, replayed_from(record))),
    )
