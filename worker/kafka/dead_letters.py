"""Dead letters: the original key and bytes on `<topic>.dlq`, with headers saying why.

A record's offset is committed only after its dead letter is acknowledged, so a crash in
between re-delivers the record and it is dead-lettered again: a dead letter may repeat, a bad
message is never lost.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kafka.errors import MessageSizeTooLargeError, RecordListTooLargeError

from worker.contracts.log_ids import ids_for_logs
from worker.errors import FatalError
from worker.kafka.producer import Outgoing, Producer
from worker.kafka.records import Record
from worker.logs import get_logger
from worker.runtime.metrics import EVENTS, Outcome, type_label

log = get_logger("reengage.dead_letters")

DLQ_SUFFIX = ".dlq"
MAX_REASON_CHARS = 1000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: Record
    error_class: str
    # Must carry no personal data: say which field failed, never its value.
    reason: str
    event_type: str = ""  # the CloudEvents type, when the message got far enough to name it


def _ids_of(letter: DeadLetter) -> dict[str, str]:
    # Only a message whose envelope held (it named a handled type, and the envelope is not
    # what failed) has ids worth naming: under bad_envelope the id itself may be the fault.
    if not letter.event_type or letter.error_class == "bad_envelope":
        return {}
    return ids_for_logs(letter.record.value)


def dead_letter_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def original_topic(dlq_topic: str) -> str:
    if not dlq_topic.endswith(DLQ_SUFFIX):
        raise ValueError(f"{dlq_topic!r} is not a dead-letter topic (no {DLQ_SUFFIX} suffix)")
    return dlq_topic.removesuffix(DLQ_SUFFIX)


ORIGINAL_TOPIC_HEADER = "dlq.original.topic"
# The headers a dead letter gets (EVENTS.md), in the order it gets them.
DEAD_LETTER_HEADERS = (
    ORIGINAL_TOPIC_HEADER,
    "dlq.original.partition",
    "dlq.original.offset",
    "dlq.error.class",
    "dlq.error.reason",
    "dlq.consumer.group",
    "dlq.failed_at",
)
# A record with neither key nor value (a Java client or kcat can produce one) cannot be sent
# as it is: Kafka clients, kafka-python among them, refuse a record with neither. Its dead
# letter carries an empty value and this header, so that it is kept, and told apart from an
# empty value, rather than stopping the consumer at it for good.
NULL_VALUE_HEADER = "dlq.original.null_value"
# Ours, replaced on every dead-lettering and dropped on replay.
OWN_HEADERS = frozenset((*DEAD_LETTER_HEADERS, NULL_VALUE_HEADER))


def sendable_value(key: bytes | None, value: bytes | None) -> bytes | None:
    """The value, or an empty one where neither key nor value is there (see above)."""
    return b"" if key is None and value is None else value


def to_outgoing(letter: DeadLetter, group_id: str, failed_at: datetime) -> Outgoing:
    record = letter.record
    values = (
        record.topic,
        str(record.partition),
        str(record.offset),
        letter.error_class,
        letter.reason[:MAX_REASON_CHARS],
        group_id,
        failed_at.isoformat().replace("+00:00", "Z"),
    )
    dlq_headers = tuple(
        (name, value.encode()) for name, value in zip(DEAD_LETTER_HEADERS, values, strict=True)
    )
    # The record's own headers travel along, so a replay restores the message exactly; only
    # ours from an earlier failure go, replaced by these (a producer's own `dlq.*` stay).
    kept = tuple((k, v) for k, v in record.headers if k not in OWN_HEADERS)
    value = sendable_value(record.key, record.value)
    if value is not record.value:
        dlq_headers += ((NULL_VALUE_HEADER, b"true"),)
    return Outgoing(dead_letter_topic(record.topic), record.key, value, kept + dlq_headers)


class DeadLetterQueue:
    def __init__(self, producer: Producer, group_id: str) -> None:
        self._producer = producer
        self._group_id = group_id

    def publish(self, letters: Sequence[DeadLetter], failed_at: datetime) -> None:
        """Returns once the broker acknowledged every dead letter; raises otherwise."""
        if not letters:
            return
        try:
            self._producer.send_all([to_outgoing(d, self._group_id, failed_at) for d in letters])
        except (MessageSizeTooLargeError, RecordListTooLargeError) as exc:
            # Retrying cannot help and skipping would lose the message: stop, and say what to
            # change. The dlq.* headers add up to ~1 KiB to the original record.
            topics = sorted({dead_letter_topic(d.record.topic) for d in letters})
            raise DeadLetterTooLargeError(
                f"a dead letter is larger than {', '.join(topics)} accepts: set the dead-letter "
                "topic's max.message.bytes to the source topic's plus 64 KiB"
            ) from exc


class DeadLetterTooLargeError(FatalError):
    """The dead-letter topic refuses a record its source topic accepted."""


class DeadLetterRatioExceededError(FatalError):
    """Too much of what arrives is invalid: something upstream is systematically wrong."""


class DeadLetterBudget:
    """Halts consumption when the dead-lettered share of a topic's last `window` records
    passes `max_ratio`, rather than draining a whole topic into its DLQ (cf. arroyo's
    DlqLimit). Kept per topic: a bad producer on one topic (a third-party mailer's status
    reports, say) must not stop the others' good traffic from being counted as such."""

    def __init__(self, window: int, max_ratio: float) -> None:
        self._window = window
        self._max_ratio = max_ratio
        self._windows: dict[str, _Window] = {}

    def record_batch(self, records: Sequence[Record], dead: Sequence[Record]) -> None:
        """A consumed batch, in the order it was consumed, and the records of it that were
        dead-lettered. Judged record by record in that order: a run of dead letters at one
        end of a batch is as much "the last `window` records" as one across batches."""
        if self._max_ratio >= 1.0:
            return
        dead_at = {(r.topic, r.partition, r.offset) for r in dead}
        for record in records:
            window = self._windows.get(record.topic)
            if window is None:
                window = self._windows[record.topic] = _Window(self._window)
            window.add((record.topic, record.partition, record.offset) in dead_at)
            if window.full and window.dead / self._window > self._max_ratio:
                raise DeadLetterRatioExceededError(
                    f"{window.dead / self._window:.0%} of the last {self._window} records of "
                    f"{record.topic} were dead-lettered (limit {self._max_ratio:.0%}); halting"
                )


class _Window:
    """The last `size` outcomes of one topic, and how many of them were dead letters."""

    __slots__ = ("dead", "outcomes")

    def __init__(self, size: int) -> None:
        self.outcomes: deque[bool] = deque(maxlen=size)
        self.dead = 0

    @property
    def full(self) -> bool:
        return len(self.outcomes) == self.outcomes.maxlen

    def add(self, dead: bool) -> None:
        if self.full and self.outcomes[0]:
            self.dead -= 1  # about to slide out of the window
        self.outcomes.append(dead)
        self.dead += dead


def publish_counts(
    counts: Counter[tuple[str, str, str]],
    dead: Sequence[DeadLetter],
    skipped: Sequence[tuple[Record, str]],
) -> None:
    """A consumed batch's outcomes as reengage_events_total: `counts` (topic, type, outcome)
    of what the consumer applied, plus its dead letters and skipped records; each dead letter
    is logged by position and reason (never its content)."""
    for letter in dead:
        counts[(letter.record.topic, letter.event_type, Outcome.DEAD_LETTERED)] += 1
    for record, event_type in skipped:
        counts[(record.topic, type_label(event_type), Outcome.SKIPPED)] += 1
    for (topic, event_type, outcome), n in counts.items():
        EVENTS.labels(topic, event_type, outcome).inc(n)
    for letter in dead:
        log.warning(
            "dead-lettered",
            topic=letter.record.topic,
            partition=letter.record.partition,
            offset=letter.record.offset,
            type=letter.event_type or None,
            error_class=letter.error_class,
            reason=letter.reason,
            **_ids_of(letter),
        )
