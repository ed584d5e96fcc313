from worker.dlq.policy import Drop, Replay, StillInvalid, Stop
from worker.dlq.report import ReplayReport
from worker.kafka.records import Record

PROBLEM = StillInvalid("bad_data", "data.title: Field required;\nmore")


def _at(offset: int) -> Record:
    return Record("ats.jobs.dlq", 1, offset, None, b"v")


def test_counts_and_summary_after_a_reinsert_run() -> None:
    report = ReplayReport("ats.jobs.dlq")
    report.count([Replay(_at(0)), Replay(_at(1), PROBLEM), Replay(_at(2))])
    report.left, report.ending = 2, "max"
    assert (report.replayed, report.reinserted_invalid, report.dropped) == (3, 1, 0)
    assert report.summary() == (
        "ats.jobs.dlq: replayed 3 (1 still invalid), dropped 0, 2 left; reached --max"
    )
    assert report.stop_reason() is None


def test_a_stop_is_reported_on_one_line_with_offset_and_error_class() -> None:
    report = ReplayReport("ats.jobs.dlq")
    report.count([Replay(_at(4)), Drop(_at(5), PROBLEM), Stop(_at(6), PROBLEM)])
    report.left, report.ending = 1, "stopped"
    assert report.handled == 2
    assert report.summary() == (
        "ats.jobs.dlq: replayed 1, dropped 1, 1 left; "
        "stopped at a dead letter that is still invalid"
    )
    reason = report.stop_reason()
    assert reason is not None
    assert "\n" not in reason
    assert reason.startswith(
        "ats.jobs.dlq partition 1 offset 6 is still invalid "
        "(bad_data: data.title: Field required; more)"
    )
    assert reason.endswith("--policy reinsert or --policy drop-invalid")


def test_a_stop_at_a_letter_no_policy_can_send_back_names_the_one_way_past_it() -> None:
    report = ReplayReport("ats.jobs.dlq")
    unsendable = StillInvalid("unknown_topic", "not a legal topic name", replayable=False)
    report.count([Stop(_at(6), unsendable)])
    reason = report.stop_reason()
    assert reason is not None
    assert reason.endswith("replay with --policy drop-invalid (it cannot be sent back)")
