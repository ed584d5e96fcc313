"""What the core sees of a consumed Kafka record: an immutable value, no client types."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Position = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = -1

    @property
    def position(self) -> tuple[str, int]:
        return (self.topic, self.partition)


def next_offsets(records: Iterable[Record]) -> dict[tuple[str, int], int]:
    """The offsets to commit once `records` are done: per partition, the last offset + 1."""
    positions: dict[tuple[str, int], int] = {}
    for record in records:
        current = positions.get(record.position, -1)
        positions[record.position] = max(current, record.offset + 1)
    return positions


def without_partitions(records: Sequence[Record], partitions: set[tuple[str, int]]) -> list[Record]:
    return [r for r in records if r.position not in partitions]
