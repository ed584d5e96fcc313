"""What to do with each dead letter: replay it, drop it, or stop. Pure; no I/O.

Before a dead letter goes back, its value is decoded again as the consumer of its original
topic decodes it (dlq/topics.py). One that decodes now (the producer or the contract was
fixed) is replayed. One whose type that consumer does not handle is replayed too: consumers
skip and count such types, they never dead-letter them. One that is still invalid is left to
the policy:

- stop-on-error: stop before it, leaving it and everything after it for the next replay;
- reinsert: replay it anyway (the worker was fixed, or should dead-letter it again), unless
  its original topic is not one the worker consumes (no legal topic name, or not configured:
  sent there, it would create a topic nobody reads, on a broker that creates topics on first
  use, or time out where none does): then it stops the replay as stop-on-error does;
- drop-invalid: commit past it without replaying it.

The check covers the contract only: a message that decodes but that a handler still rejects is
dead-lettered again by the worker, which is why reinsert is safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from worker.contracts.decode import Invalid, decode
from worker.dlq.restore import destination
from worker.kafka.records import Record
from worker.settings import kafka_accepts_topic_name


class Policy(StrEnum):
    STOP_ON_ERROR = "stop-on-error"
    REINSERT = "reinsert"
    DROP_INVALID = "drop-invalid"


@dataclass(frozen=True, slots=True)
class StillInvalid:
    # decode's error classes, or unknown_topic; `reason` names fields, never values.
    error_class: str
    reason: str
    # False when no policy sends it back: its original topic is not one the worker consumes.
    replayable: bool = True


@dataclass(frozen=True, slots=True)
class Replay:
    record: Record
    # Set when the policy reinserts a dead letter that is still invalid.
    still_invalid: StillInvalid | None = None


@dataclass(frozen=True, slots=True)
class Drop:
    record: Record
    still_invalid: StillInvalid


@dataclass(frozen=True, slots=True)
class Stop:
    record: Record
    still_invalid: StillInvalid


Decision = Replay | Drop | Stop


def recheck(record: Record, types_by_topic: Mapping[str, frozenset[str]]) -> StillInvalid | None:
    """None when the dead letter's value would now pass the worker's decoding."""
    topic = destination(record)
    if not kafka_accepts_topic_name(topic):  # a header may name anything
        return StillInvalid(
            "unknown_topic",
            "its dlq.original.topic header is not a legal topic name",
            replayable=False,
        )
    types = types_by_topic.get(topic)
    if types is None:
        return StillInvalid(
            "unknown_topic",
            f"{topic} is not a configured topic (REENGAGE_TOPIC_*)",
            replayable=False,
        )
    verdict = decode(record.value, types)
    if isinstance(verdict, Invalid):
        return StillInvalid(verdict.error_class, verdict.reason)
    return None


def decide(record: Record, still_invalid: StillInvalid | None, policy: Policy) -> Decision:
    if still_invalid is None or (policy is Policy.REINSERT and still_invalid.replayable):
        return Replay(record, still_invalid)
    if policy is Policy.DROP_INVALID:
        return Drop(record, still_invalid)
    return Stop(record, still_invalid)


def plan(
    records: Sequence[Record],
    policy: Policy,
    types_by_topic: Mapping[str, frozenset[str]],
    limit: int | None = None,
) -> list[Decision]:
    """Decisions for `records` in order: at most `limit` of them, ending at the first Stop.
    Records after a Stop or past the limit get no decision (they stay uncommitted)."""
    decisions: list[Decision] = []
    for record in records[:limit]:
        decision = decide(record, recheck(record, types_by_topic), policy)
        decisions.append(decision)
        if isinstance(decision, Stop):
            break
    return decisions
