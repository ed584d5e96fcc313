"""What a replay did, counted as it goes, and the lines that tell the operator."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from worker.dlq.policy import Decision, Drop, Replay, Stop

# A safety net, not the normal ending: with partitions in hand, this many empty polls in a
# row without the position moving to the end offsets (the broker cannot serve them) end the
# replay unfinished (the "idle" ending).
MAX_IDLE_POLLS = 30

Ending = Literal["caught_up", "max", "stopped", "interrupted", "idle", "unassigned"]

_ENDINGS: dict[Ending, str] = {
    "caught_up": "caught up with the end offsets seen at start",
    "max": "reached --max",
    "stopped": "stopped at a dead letter that is still invalid",
    "interrupted": "interrupted",
    "idle": "gave up waiting for the remaining dead letters",
    "unassigned": "no partition of the topic was assigned",
}


@dataclass
class ReplayReport:
    topic: str
    replayed: int = 0
    # Of `replayed`: still invalid, re-published by the reinsert policy.
    reinserted_invalid: int = 0
    dropped: int = 0
    # Dead letters before the start's end offsets still unhandled when the replay ended.
    left: int = 0
    ending: Ending = "caught_up"
    stopped_at: Stop | None = None

    @property
    def handled(self) -> int:
        return self.replayed + self.dropped

    def count(self, decisions: Iterable[Decision]) -> None:
        for decision in decisions:
            if isinstance(decision, Replay):
                self.replayed += 1
                if decision.still_invalid is not None:
                    self.reinserted_invalid += 1
            elif isinstance(decision, Drop):
                self.dropped += 1
            else:
                self.stopped_at = decision

    def summary(self) -> str:
        """One line for stdout: `ats.jobs.dlq: replayed 3 (1 still invalid), dropped 0, 2 left;
        reached --max`."""
        invalid = f" ({self.reinserted_invalid} still invalid)" if self.reinserted_invalid else ""
        return (
            f"{self.topic}: replayed {self.replayed}{invalid}, dropped {self.dropped}, "
            f"{self.left} left; {_ENDINGS[self.ending]}"
        )

    def unfinished(self) -> str | None:
        """One line for stderr when the replay gave up with dead letters left: its partitions
        never came (a replay killed a moment ago holds them until its session times out), or
        the broker would not serve them. Not a success."""
        if self.ending not in ("unassigned", "idle") or self.left == 0:
            return None
        why = (
            "no partition was assigned in time (a replay killed a moment ago holds them until "
            "its session times out)"
            if self.ending == "unassigned"
            else f"they did not arrive within {MAX_IDLE_POLLS} polls"
        )
        return (
            f"{self.topic}: {self.left} dead letters were not replayed: {why}; run the replay again"
        )

    def stop_reason(self) -> str | None:
        """One line for stderr naming the dead letter that stopped the replay, and why."""
        if self.stopped_at is None:
            return None
        record, problem = self.stopped_at.record, self.stopped_at.still_invalid
        reason = " ".join(problem.reason.split())
        policies = (
            "--policy reinsert or --policy drop-invalid"
            if problem.replayable
            else "--policy drop-invalid (it cannot be sent back)"
        )
        return (
            f"{record.topic} partition {record.partition} offset {record.offset} is still "
            f"invalid ({problem.error_class}: {reason}); fix the cause, or replay with {policies}"
        )
