from collections import Counter
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY, generate_latest

from worker.errors import FatalError
from worker.kafka.dead_letters import (
    DeadLetter,
    DeadLetterBudget,
    dead_letter_topic,
    original_topic,
    publish_counts,
    to_outgoing,
)
from worker.kafka.records import Record, next_offsets, without_partitions
from worker.runtime import metrics
from worker.runtime.metrics import MAX_OTHER_TYPE_LABELS

FAILED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _record(offset: int, partition: int = 0, topic: str = "ats.jobs") -> Record:
    return Record(topic, partition, offset, b"acme:J-1", b"\xff not json", (("trace", b"1"),))


def test_dead_letter_keeps_key_bytes_and_headers_and_says_why() -> None:
    letter = DeadLetter(_record(41, partition=2), "invalid_json", "value is not JSON")
    out = to_outgoing(letter, "reengage-worker", FAILED_AT)
    assert out.topic == "ats.jobs.dlq"
    assert out.key == b"acme:J-1"
    assert out.value == b"\xff not json"
    headers = dict(out.headers)
    assert headers["trace"] == b"1"
    assert headers["dlq.original.topic"] == b"ats.jobs"
    assert headers["dlq.original.partition"] == b"2"
    assert headers["dlq.original.offset"] == b"41"
    assert headers["dlq.error.class"] == b"invalid_json"
    assert headers["dlq.error.reason"] == b"value is not JSON"
    assert headers["dlq.consumer.group"] == b"reengage-worker"
    assert headers["dlq.failed_at"] == b"2026-11-20T09:30:00Z"


def test_a_record_with_neither_key_nor_value_gets_an_empty_value_and_says_so() -> None:
    """Kafka clients refuse to send a record with neither; an empty value they take."""
    record = Record("ats.jobs", 0, 3, None, None, (("dlq.original.null_value", b"old"),))
    out = to_outgoing(DeadLetter(record, "not_json", "no value"), "g", FAILED_AT)
    assert (out.key, out.value) == (None, b"")
    assert [v for k, v in out.headers if k == "dlq.original.null_value"] == [b"true"]


def test_a_tombstone_with_a_key_keeps_its_null_value() -> None:
    record = Record("ats.jobs", 0, 3, b"acme:J-1", None, ())
    out = to_outgoing(DeadLetter(record, "not_json", "no value"), "g", FAILED_AT)
    assert (out.key, out.value) == (b"acme:J-1", None)
    assert "dlq.original.null_value" not in dict(out.headers)


def test_reason_is_capped_at_1000_chars_and_old_dlq_headers_are_replaced() -> None:
    record = Record("t", 0, 1, None, b"x", (("dlq.error.reason", b"old"),))
    out = to_outgoing(DeadLetter(record, "bad_data", "r" * 5000), "g", FAILED_AT)
    reasons = [v for k, v in out.headers if k == "dlq.error.reason"]
    assert reasons == [b"r" * 1000]


def test_a_replayed_copy_that_fails_again_says_where_it_was_replayed_from() -> None:
    own = (("dlq.note", b"mine"), ("dlq.replayed.from", b"ats.jobs.dlq:0:7"))
    record = Record("ats.jobs", 0, 1, None, b"x", (*own, ("dlq.error.class", b"old")))
    out = to_outgoing(DeadLetter(record, "bad_data", "r"), "g", FAILED_AT)
    assert out.headers[:2] == own
    assert [v for k, v in out.headers if k == "dlq.error.class"] == [b"bad_data"]


def test_dead_letter_topic_names_round_trip() -> None:
    assert original_topic(dead_letter_topic("ats.candidates")) == "ats.candidates"
    with pytest.raises(ValueError, match="not a dead-letter topic"):
        original_topic("ats.candidates")


def test_next_offsets_are_last_plus_one_per_partition() -> None:
    records = [_record(5), _record(3), _record(9, partition=1), _record(2, topic="x")]
    assert next_offsets(records) == {("ats.jobs", 0): 6, ("ats.jobs", 1): 10, ("x", 0): 3}


def test_records_of_revoked_partitions_are_dropped() -> None:
    records = [_record(1), _record(2, partition=1)]
    assert without_partitions(records, {("ats.jobs", 0)}) == [records[1]]


def _batch(
    outcomes: str, first_offset: int = 0, topic: str = "ats.jobs"
) -> tuple[list[Record], list[Record]]:
    """Records in consumed order from a pattern: "d" dead-lettered, "." applied."""
    records = [_record(first_offset + n, topic=topic) for n in range(len(outcomes))]
    return records, [r for r, o in zip(records, outcomes, strict=True) if o == "d"]


def test_budget_halts_only_past_the_ratio_over_a_full_window() -> None:
    budget = DeadLetterBudget(window=10, max_ratio=0.5)
    budget.record_batch(*_batch("dddd"))  # window not full yet: no verdict
    budget.record_batch(*_batch("d.....", 4))  # 5 of 10: at the limit, not past it
    budget.record_batch(*_batch(".....", 10))  # the window slides: 0 of 10
    budget.record_batch(*_batch("ddddd", 15))  # 5 of 10 again: only if the old ones slid out
    with pytest.raises(FatalError, match=r"60% of the last 10 records of ats\.jobs"):
        budget.record_batch(*_batch("d", 20))  # 6 of 10


@pytest.mark.parametrize(
    "outcomes",
    [
        "." * 490 + "d" * 10,  # the batch's last 10 records
        "d" * 10 + "." * 490,  # its first 10
        "." * 200 + "d" * 10 + "." * 290,  # somewhere inside
    ],
)
def test_budget_judges_a_batch_in_its_own_order(outcomes: str) -> None:
    """Past half of the last 10 records were dead letters at some point of this batch."""
    budget = DeadLetterBudget(window=10, max_ratio=0.5)
    with pytest.raises(FatalError, match=r"of the last 10 records of ats\.jobs"):
        budget.record_batch(*_batch(outcomes))


def test_budget_window_spans_batches() -> None:
    budget = DeadLetterBudget(window=10, max_ratio=0.5)
    budget.record_batch(*_batch("." * 20 + "ddd"))
    with pytest.raises(FatalError):
        budget.record_batch(*_batch("ddd.", 23))  # 6 of the last 10, across two batches


def test_budget_is_kept_per_topic() -> None:
    """A producer sending garbage on one topic halts the consumer only once that topic's own
    window is mostly dead letters, however much good traffic the other topics carry."""
    budget = DeadLetterBudget(window=10, max_ratio=0.5)
    good = [_record(n) for n in range(20)]
    bad = [_record(n, topic="reengage.outreach.status") for n in range(4)]
    budget.record_batch(good + bad, bad)  # 4 of 4 on status: window not full
    budget.record_batch(good, [])
    more = [_record(n, topic="reengage.outreach.status") for n in range(4, 12)]
    with pytest.raises(FatalError, match=r"reengage\.outreach\.status"):
        budget.record_batch(good + more, more)  # 12 of 12 on status


def test_budget_of_one_never_halts() -> None:
    budget = DeadLetterBudget(window=2, max_ratio=1.0)
    budget.record_batch(*_batch("d" * 50))


def test_dead_letters_are_counted_under_their_type_when_known() -> None:
    topic = "test-dead-letter-counts"
    record = Record(topic, 0, 0, None, b"x")
    letters = [
        DeadLetter(record, "bad_data", "data.title: too short", "ats.job.opened"),
        DeadLetter(record, "not_json", "EOF at line 1"),
    ]
    publish_counts(Counter(), letters, [])

    def counted(event_type: str) -> float | None:
        labels = {"topic": topic, "type": event_type, "outcome": "dead_lettered"}
        return REGISTRY.get_sample_value("reengage_events_total", labels)

    assert (counted("ats.job.opened"), counted("")) == (1.0, 1.0)


def test_skipped_types_from_the_wire_are_labelled_safely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metrics, "_other_types", set())  # no names left by other tests
    topic = "test-skipped-type-labels"
    record = Record(topic, 0, 0, None, b"x")
    too_long = "ats.x." + "a" * 59  # the shape of a type, one character over 64
    garbage = ["zed.zebra@example.com", "X" * 300, "no-dots", "Upper.Case", too_long, "jane.doe"]
    garbage += ["jane.marie.doe", "maria.garcia.lopez"]  # names, not types of our families
    later = [f"ats.job.kind{n}" for n in range(MAX_OTHER_TYPE_LABELS + 5)]
    skipped = [(record, t) for t in ["reengage.outreach.skipped", *garbage, *later]]
    publish_counts(Counter(), [], skipped)

    def counted(event_type: str) -> float | None:
        labels = {"topic": topic, "type": event_type, "outcome": "skipped"}
        return REGISTRY.get_sample_value("reengage_events_total", labels)

    assert counted("reengage.outreach.skipped") == 1.0  # a type of the contract
    assert all(counted(t) is None for t in garbage)
    # Types added later keep their name, up to a bound shared by the whole process.
    assert [t for t in later if counted(t) == 1.0] == later[:MAX_OTHER_TYPE_LABELS]
    assert counted("other") == len(garbage) + len(later) - MAX_OTHER_TYPE_LABELS


def test_the_exposition_has_no_created_series() -> None:
    assert not [m.name for m in REGISTRY.collect() if m.name.endswith("_created")]
    assert "_created" not in generate_latest(REGISTRY).decode()
