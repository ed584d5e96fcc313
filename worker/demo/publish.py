"""Publishing the data set: encoded events to their topics, in chunks, each acknowledged."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from worker.contracts.encode import OutgoingMessage
from worker.kafka.producer import Outgoing, Producer

CHUNK = 1000


def publish(
    producer: Producer,
    topic: str,
    messages: Sequence[OutgoingMessage],
    *,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Send every message (recommended key, encoded value) and wait for the broker's
    acknowledgements, a chunk at a time; returns how many were sent."""
    for start in range(0, len(messages), CHUNK):
        chunk = messages[start : start + CHUNK]
        producer.send_all([Outgoing(topic, m.key, m.value) for m in chunk])
        if on_chunk is not None:
            on_chunk(len(chunk))
    return len(messages)
