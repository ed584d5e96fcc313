"""How far a replay goes: per partition, from the replay group's committed offset to the end
offset seen when the replay began. Pure bookkeeping; the offsets are read by `offsets.py`.

Dead letters that arrive while a replay runs (a replayed copy failing again, say) lie past
those ends and wait for the next replay, so a replay always finishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from worker.kafka.records import Record


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # the group's committed offset, or the partition's first one
    end: int  # the partition's end offset when the replay began


class Backlog:
    def __init__(self, spans: Mapping[int, Span]) -> None:
        self._end = {partition: span.end for partition, span in spans.items()}
        self._next = {partition: span.start for partition, span in spans.items()}

    @property
    def pending(self) -> int:
        """Dead letters before the ends not yet handled."""
        return sum(max(0, end - self._next[p]) for p, end in self._end.items())

    def due(self, record: Record) -> bool:
        """Whether the record lies before its partition's end (it is this replay's work)."""
        return record.offset < self._end.get(record.partition, 0)

    def advance(self, record: Record) -> None:
        """The record was handled, or lies past the end: its partition is beyond it."""
        self.reached(record.partition, record.offset + 1)

    def reached(self, partition: int, position: int) -> None:
        """The consumer's position on the partition: what lies before it will not be handed
        out (a transactional producer's markers and aborted records are skipped silently)."""
        if partition in self._next:
            self._next[partition] = max(self._next[partition], position)

    def caught_up(self, partitions: Iterable[int] | None = None) -> bool:
        """Every one of `partitions` (default: all) has reached its end."""
        chosen = self._end if partitions is None else partitions
        return all(self._next.get(p, 0) >= self._end.get(p, 0) for p in chosen)
