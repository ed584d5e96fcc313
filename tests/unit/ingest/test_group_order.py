"""When a job may go, given the other workers' progress (group_order.py's pure part)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.ingest.group_order import (
    held_back_by,
    of_current_topics,
    own_progress,
    partitions_behind,
)
from worker.ingest.holding import Held
from worker.kafka.records import Position, Record
from worker.store.progress import PartitionProgress

T = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
JOB = (T, "ats.jobs", 1)
C0, C1, S0 = ("ats.candidates", 0), ("ats.candidates", 1), ("reengage.outreach.status", 0)


def _held(position: Position, offset: int, at: datetime | None) -> Held[str]:
    return Held(Record(position[0], position[1], offset, None, b""), "record", at)


def test_a_partition_applied_to_its_end_as_it_was_is_not_behind() -> None:
    progress = {C0: PartitionProgress(None, 40), C1: PartitionProgress(None, 39)}
    assert partitions_behind(JOB, {C0: 40, C1: 40}, progress) == [C1]


def test_a_partition_whose_next_record_comes_after_the_job_is_not_behind() -> None:
    progress = {
        C0: PartitionProgress(T + MINUTE, None),
        C1: PartitionProgress(T - MINUTE, None),
        S0: PartitionProgress(T, None),  # equal times: topic then partition, as in the merge
    }
    assert partitions_behind(JOB, {C0: 9, C1: 9, S0: 9}, progress) == [C1]
    earlier_topic = {("ats.candidates", 5): PartitionProgress(T, None)}
    assert partitions_behind(JOB, {("ats.candidates", 5): 9}, earlier_topic) == [
        ("ats.candidates", 5)
    ]


def test_a_partition_nobody_has_reported_is_behind_unless_it_never_held_a_record() -> None:
    assert partitions_behind(JOB, {C0: 3, C1: 0}, {}) == [C0]
    assert partitions_behind(JOB, {C0: 3}, {C0: PartitionProgress(None, None)}) == [C0]


def test_own_progress_says_what_is_held_and_how_far_it_has_read() -> None:
    progress = own_progress(
        [C0, C1, S0, ("ats.candidates", 2)],
        heads={C0: _held(C0, 12, T + MINUTE), C1: _held(C1, 5, None)},
        last_applied={C0: T, C1: T - MINUTE, S0: T - 2 * MINUTE},
        positions={C0: 30, C1: 9, S0: 17},
        topic_ids={"ats.candidates": "id-c"},  # the status topic's id is not known
    )
    assert progress == {
        C0: PartitionProgress(T + MINUTE, 12, "id-c"),  # its first held record
        # a held record without a time: the last applied
        C1: PartitionProgress(T - MINUTE, 5, "id-c"),
        S0: PartitionProgress(T - 2 * MINUTE, 17),  # none held: its read position
        ("ats.candidates", 2): PartitionProgress(None, None, "id-c"),  # nothing known yet
    }


def test_a_row_about_an_earlier_topic_of_the_same_name_is_read_as_no_row() -> None:
    """Offsets start again at 0 in a topic created again: the old row's would claim the
    new topic's records applied. Without an id on either side nothing can be told."""
    rows = {
        C0: PartitionProgress(None, 1_000, "old-id"),
        C1: PartitionProgress(None, 1_000, "new-id"),
        ("ats.candidates", 2): PartitionProgress(None, 1_000),
        S0: PartitionProgress(None, 1_000, "status-id"),
    }
    current = of_current_topics(rows, {"ats.candidates": "new-id"})
    assert current == {p: rows[p] for p in (C1, ("ats.candidates", 2), S0)}
    assert partitions_behind(JOB, {C0: 3, C1: 3}, current) == [C0]


def test_only_partitions_whose_held_records_all_come_after_the_waiting_job_are_held_back() -> None:
    """Fetching those only piles records up behind the job. A partition with a record before
    the job is fetched on (its next records may be before the job too), and so is one whose
    records before the job went out and left it empty: paused, the merge gave up waiting for
    it and released the job ahead of its unread earlier records."""
    jobs = ("ats.jobs", 1)
    heads = {
        jobs: _held(jobs, 7, T),
        C0: _held(C0, 3, T - MINUTE),  # before the job
        C1: _held(C1, 9, T + MINUTE),  # after it
        S0: _held(S0, 2, T),  # same time, a later topic: after it in merge order
    }
    assert held_back_by(jobs, heads) == {jobs, C1, S0}
    assert held_back_by(jobs, {C0: heads[C0]}) == set()  # the job is gone (revoked)
