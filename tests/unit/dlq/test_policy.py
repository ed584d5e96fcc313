import pytest

from tests.unit.dlq.letters import dead_letter, job_opened, job_opened_without_title
from worker.dlq.policy import Drop, Policy, Replay, StillInvalid, Stop, decide, plan, recheck
from worker.dlq.topics import types_by_topic
from worker.kafka.records import Record
from worker.settings import Settings

TYPES = types_by_topic(Settings(_env_file=None))
PROBLEM = StillInvalid("bad_data", "data.title: Field required")


def test_a_message_that_decodes_now_is_not_invalid() -> None:
    assert recheck(dead_letter(*job_opened()), TYPES) is None


def test_a_still_invalid_message_says_why_without_values() -> None:
    problem = recheck(dead_letter(*job_opened_without_title()), TYPES)
    assert problem == StillInvalid("bad_data", "data.title: Field required")


@pytest.mark.parametrize(
    ("value", "error_class"),
    [(b"{not json", "not_json"), (None, "not_json"), (b"[]", "bad_envelope")],
)
def test_unreadable_values_are_still_invalid(value: bytes | None, error_class: str) -> None:
    problem = recheck(dead_letter(b"k", value), TYPES)
    assert problem is not None
    assert problem.error_class == error_class


def test_a_type_the_consumer_does_not_handle_is_replayed_for_it_to_skip() -> None:
    # A valid ats.job.opened dead-lettered from the outreach topic: the mailer skips it.
    letter = dead_letter(*job_opened(), original_topic="reengage.outreach")
    assert recheck(letter, TYPES) is None


def test_an_event_on_another_of_the_workers_topics_is_checked_as_the_worker_decodes_it() -> None:
    # The worker applies an ats.job.opened that arrives on ats.candidates, and dead-letters an
    # invalid one: replaying that one would only dead-letter it again, so it is still invalid.
    valid = dead_letter(*job_opened(), original_topic="ats.candidates")
    invalid = dead_letter(*job_opened_without_title(), original_topic="ats.candidates")
    assert recheck(valid, TYPES) is None
    assert recheck(invalid, TYPES) == PROBLEM


def test_a_topic_that_is_not_configured_cannot_be_checked() -> None:
    problem = recheck(dead_letter(*job_opened(), original_topic="legacy.jobs"), TYPES)
    assert problem is not None
    assert problem.error_class == "unknown_topic"
    assert "legacy.jobs" in problem.reason


def test_a_topic_that_is_not_configured_is_not_reinserted() -> None:
    """Sent there, it would create a topic nobody reads (on a broker that creates topics on
    first use), and the letter would be committed off the DLQ. Before, reinsert did that."""
    letter = dead_letter(*job_opened(), original_topic="ats.jobs-typo")
    problem = recheck(letter, TYPES)
    assert type(decide(letter, problem, Policy.REINSERT)) is Stop
    assert type(decide(letter, problem, Policy.DROP_INVALID)) is Drop


@pytest.mark.parametrize("named", [b"ats.j\xffobs", b"", b"..", b"a b", b"x" * 250])
def test_an_original_topic_that_is_no_legal_name_cannot_be_sent_back(named: bytes) -> None:
    letter = Record("ats.jobs.dlq", 0, 0, b"k", job_opened()[1], (("dlq.original.topic", named),))
    problem = recheck(letter, TYPES)
    if named == b"":  # no name at all: the dead-letter topic's own name stands in
        assert problem is None
        return
    assert problem == StillInvalid(
        "unknown_topic", "its dlq.original.topic header is not a legal topic name", False
    )
    assert type(decide(letter, problem, Policy.REINSERT)) is Stop
    assert type(decide(letter, problem, Policy.DROP_INVALID)) is Drop


def test_configured_topic_names_are_checked_with_their_default_topics_types() -> None:
    renamed = types_by_topic(Settings(_env_file=None, topic_jobs="prod.jobs"))
    valid = dead_letter(*job_opened(), original_topic="prod.jobs")
    invalid = dead_letter(*job_opened_without_title(), original_topic="prod.jobs")
    assert recheck(valid, renamed) is None
    assert recheck(invalid, renamed) == PROBLEM
    assert recheck(dead_letter(*job_opened()), renamed) is not None  # ats.jobs is not configured


@pytest.mark.parametrize("policy", list(Policy))
def test_a_valid_dead_letter_is_replayed_under_every_policy(policy: Policy) -> None:
    record = dead_letter(*job_opened())
    assert decide(record, None, policy) == Replay(record, None)


@pytest.mark.parametrize(
    ("policy", "kind"),
    [(Policy.STOP_ON_ERROR, Stop), (Policy.REINSERT, Replay), (Policy.DROP_INVALID, Drop)],
)
def test_a_still_invalid_dead_letter_follows_the_policy(policy: Policy, kind: type) -> None:
    record = dead_letter(*job_opened_without_title())
    decision = decide(record, PROBLEM, policy)
    assert type(decision) is kind
    assert decision.record == record
    assert decision.still_invalid == PROBLEM


def _batch() -> list:  # valid, invalid, valid, invalid
    values = [job_opened("J-1"), job_opened_without_title("J-2")] * 2
    return [dead_letter(k, v, dlq_offset=n) for n, (k, v) in enumerate(values)]


def test_stop_on_error_plans_up_to_and_including_the_first_invalid_only() -> None:
    decisions = plan(_batch(), Policy.STOP_ON_ERROR, TYPES)
    assert [type(d) for d in decisions] == [Replay, Stop]
    assert decisions[1].record.offset == 1


def test_drop_invalid_plans_every_record() -> None:
    decisions = plan(_batch(), Policy.DROP_INVALID, TYPES)
    assert [type(d) for d in decisions] == [Replay, Drop, Replay, Drop]


def test_reinsert_replays_every_record_and_marks_the_invalid_ones() -> None:
    decisions = plan(_batch(), Policy.REINSERT, TYPES)
    assert all(isinstance(d, Replay) for d in decisions)
    assert [d.still_invalid is not None for d in decisions] == [False, True, False, True]


def test_the_limit_caps_the_plan() -> None:
    assert [d.record.offset for d in plan(_batch(), Policy.REINSERT, TYPES, 3)] == [0, 1, 2]
    assert plan(_batch(), Policy.REINSERT, TYPES, 0) == []
