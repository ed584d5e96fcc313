"""The replay loop's endings, with a consumer and a producer that stand in for the broker's:
how long a replay waits for its partitions, and that giving up is not reported as success."""

from __future__ import annotations

from collections.abc import Sequence

from tests.unit.dlq.letters import dead_letter, job_opened
from worker.dlq.backlog import Backlog, Span
from worker.dlq.policy import Policy
from worker.dlq.replay import MAX_IDLE_POLLS, _Loop
from worker.dlq.report import ReplayReport
from worker.dlq.topics import types_by_topic
from worker.kafka.producer import Outgoing
from worker.kafka.records import Record
from worker.runtime.shutdown import Shutdown
from worker.settings import Settings

DLQ = "ats.jobs.dlq"


class _Consumer:
    """Holds no partition for its first `unassigned_polls` polls (another member still has
    them), then partition 0 and its dead letters."""

    def __init__(self, letters: Sequence[Record], unassigned_polls: int | None) -> None:
        self._letters = list(letters)
        self._unassigned_polls = unassigned_polls
        self.polls = 0
        self.committed: list[Record] = []
        self.position = 0  # what the client reports; tests move it past unseen offsets
        self.refuse_commits = 0  # the next commits a rebalance refuses

    @property
    def assigned(self) -> set[tuple[str, int]]:
        waiting = self._unassigned_polls is None or self.polls <= self._unassigned_polls
        return set() if waiting else {(DLQ, 0)}

    def poll(self, timeout_s: float) -> list[Record]:
        self.polls += 1
        if not self.assigned:
            return []
        letters, self._letters = self._letters, []
        return letters

    def commit(self, records: Sequence[Record]) -> bool:
        if self.refuse_commits:
            self.refuse_commits -= 1
            return False
        self.committed += records
        return True

    def rewind(self, records: Sequence[Record]) -> None:
        self._letters = [*records, *self._letters]

    def positions(self) -> dict[tuple[str, int], int]:
        return {(DLQ, 0): self.position} if self.assigned else {}


class _Producer:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send_all(self, messages: Sequence[Outgoing], timeout_s: float = 30.0) -> None:
        self.sent += messages


def _replay(consumer: _Consumer, join_wait_s: float) -> tuple[ReplayReport, _Producer]:
    letters = 3
    report, producer = ReplayReport(DLQ), _Producer()
    backlog = Backlog({0: Span(0, letters)})
    loop = _Loop(
        consumer=consumer,  # type: ignore[arg-type]
        producer=producer,  # type: ignore[arg-type]
        backlog=backlog,
        types=types_by_topic(Settings(_env_file=None)),
        policy=Policy.STOP_ON_ERROR,
        report=report,
        join_wait_s=join_wait_s,
    )
    report.ending = loop.run(None, Shutdown())
    report.left = backlog.pending
    return report, producer


def _letters() -> list[Record]:
    return [dead_letter(*job_opened(f"J-{n}"), dlq_offset=n) for n in range(3)]


def test_a_replay_waits_for_partitions_another_member_still_holds() -> None:
    """A replay killed a moment ago keeps its partitions until its session times out: the
    next one waits for them, however many empty polls that takes."""
    consumer = _Consumer(_letters(), unassigned_polls=MAX_IDLE_POLLS + 10)
    report, producer = _replay(consumer, join_wait_s=60)
    assert (report.ending, report.replayed, report.left) == ("caught_up", 3, 0)
    assert len(producer.sent) == 3
    assert report.unfinished() is None


def test_a_replay_that_never_gets_its_partitions_gives_up_and_says_so() -> None:
    report, producer = _replay(_Consumer(_letters(), unassigned_polls=None), join_wait_s=0.05)
    assert (report.ending, report.replayed, report.left) == ("unassigned", 0, 3)
    assert producer.sent == []
    assert report.unfinished() == (
        f"{DLQ}: 3 dead letters were not replayed: no partition was assigned in time (a replay "
        "killed a moment ago holds them until its session times out); run the replay again"
    )


def test_offsets_never_handed_out_but_passed_by_the_position_are_caught_up() -> None:
    """A transactional producer's commit markers count in the end offsets but are never
    delivered; the client's position moves past them, and so does the replay."""
    consumer = _Consumer([], unassigned_polls=0)
    consumer.position = 3
    report, _ = _replay(consumer, join_wait_s=60)
    assert (report.ending, report.left) == ("caught_up", 0)
    assert report.unfinished() is None


def test_dead_letters_that_never_arrive_with_partitions_in_hand_are_unfinished() -> None:
    report, _ = _replay(_Consumer([], unassigned_polls=0), join_wait_s=60)
    assert (report.ending, report.left) == ("idle", 3)
    assert report.unfinished() == (
        f"{DLQ}: 3 dead letters were not replayed: they did not arrive within 30 polls; "
        "run the replay again"
    )


def test_letters_whose_commit_a_rebalance_refused_are_read_again_and_counted_once() -> None:
    """Before, they counted as replayed though still on the DLQ, uncommitted: the summary
    said caught up and `--max` took them as done."""
    consumer = _Consumer(_letters(), unassigned_polls=0)
    consumer.refuse_commits = 1
    report, producer = _replay(consumer, join_wait_s=60)
    assert (report.ending, report.replayed, report.left) == ("caught_up", 3, 0)
    assert [r.offset for r in consumer.committed] == [0, 1, 2]
    assert len(producer.sent) == 6  # sent again with the second read; the worker dedupes
