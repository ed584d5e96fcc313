"""The producing side of the Kafka seam: idempotent sends that are confirmed or raise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer

from worker.kafka.config import producer_options
from worker.settings import Settings


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class Producer:
    """Sends batches and waits for the broker's acknowledgement of every record in it."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self._producer = KafkaProducer(**{**producer_options(settings), **overrides})

    def send_all(self, messages: Sequence[Outgoing], timeout_s: float = 30.0) -> None:
        """Raises the first send error; the caller retries the whole batch (idempotence and
        stable keys make the repeat harmless)."""
        futures = [
            self._producer.send(m.topic, key=m.key, value=m.value, headers=list(m.headers))
            for m in messages
        ]
        self._producer.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.close(timeout=timeout_s)
