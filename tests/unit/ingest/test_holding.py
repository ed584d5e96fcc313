"""The merge that holds polled records until every partition has spoken (holding.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from worker.ingest.holding import EventTimeMerge, Held
from worker.kafka.records import Record

T = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
JOBS, CANDIDATES = ("ats.jobs", 0), ("ats.candidates", 0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _held(position: tuple[str, int], offset: int, minutes: int | None) -> Held[str]:
    record = Record(position[0], position[1], offset, None, b"")
    at = None if minutes is None else T + timedelta(minutes=minutes)
    return Held(record, f"{position[0]}@{offset}", at)


def _merge(clock: Clock | None = None, max_held: int = 100) -> EventTimeMerge[str]:
    return EventTimeMerge(max_held=max_held, max_hold_s=1.0, clock=clock or Clock())


def _items(released: list[Held[str]]) -> list[str]:
    return [held.item for held in released]


def test_a_partition_with_more_to_give_is_waited_for() -> None:
    merge = _merge()
    merge.add([_held(JOBS, 0, 10)])  # a job opened at T+10 min, polled first
    assert merge.release(500, may_have_more={CANDIDATES}) == []
    merge.add([_held(CANDIDATES, 0, 0), _held(CANDIDATES, 1, 20)])
    # The candidate stored at T goes before the job; the one at T+20 waits for the jobs.
    assert _items(merge.release(500, may_have_more={JOBS, CANDIDATES})) == [
        "ats.candidates@0",
        "ats.jobs@0",
    ]
    assert len(merge) == 1
    assert _items(merge.release(500, may_have_more=set())) == ["ats.candidates@1"]


def test_release_is_the_same_however_the_polls_split_the_records() -> None:
    def replay(polls: list[list[Held[str]]]) -> list[str]:
        merge, out = _merge(), []
        for index, poll in enumerate(polls):
            merge.add(poll)
            last = index == len(polls) - 1
            out += _items(merge.release(500, may_have_more=set() if last else {JOBS, CANDIDATES}))
        return out

    jobs = [_held(JOBS, n, minutes) for n, minutes in enumerate([5, 15, 15, 40])]
    candidates = [_held(CANDIDATES, n, minutes) for n, minutes in enumerate([0, 15, 30])]
    together = replay([jobs + candidates])
    assert together == replay([jobs[:1], candidates, jobs[1:]])
    assert together == replay([candidates[:2], jobs[:3], candidates[2:], jobs[3:]])
    # Equal times: by topic and partition, not by arrival.
    assert together == [
        "ats.candidates@0",
        "ats.jobs@0",
        "ats.candidates@1",
        "ats.jobs@1",
        "ats.jobs@2",
        "ats.candidates@2",
        "ats.jobs@3",
    ]


def test_a_partitions_own_order_is_kept_and_untimed_records_go_at_its_head() -> None:
    merge = _merge()
    merge.add([_held(JOBS, 0, 30), _held(JOBS, 1, None), _held(JOBS, 2, 0)])
    merge.add([_held(CANDIDATES, 0, 10)])
    assert _items(merge.release(500, may_have_more=set())) == [
        "ats.candidates@0",
        "ats.jobs@0",
        "ats.jobs@1",
        "ats.jobs@2",
    ]


def test_the_limit_caps_a_release_and_the_rest_waits_for_the_next() -> None:
    merge = _merge()
    merge.add([_held(JOBS, n, n) for n in range(5)])
    assert _items(merge.release(2, may_have_more=set())) == ["ats.jobs@0", "ats.jobs@1"]
    assert len(merge.release(10, may_have_more=set())) == 3


def test_a_slow_partition_holds_the_rest_up_for_a_bounded_time_only() -> None:
    clock = Clock()
    merge = _merge(clock)
    merge.add([_held(JOBS, 0, 10)])
    clock.now = 0.9
    assert merge.release(500, may_have_more={CANDIDATES}) == []
    clock.now = 1.0
    assert _items(merge.release(500, may_have_more={CANDIDATES})) == ["ats.jobs@0"]


def test_too_many_held_records_are_released_whatever_is_missing() -> None:
    merge = _merge(max_held=3)
    merge.add([_held(JOBS, n, n) for n in range(2)])
    assert merge.release(500, may_have_more={CANDIDATES}) == []
    merge.add([_held(JOBS, 2, 2)])
    assert len(merge.release(500, may_have_more={CANDIDATES})) == 3


def test_dropped_partitions_leave_nothing_behind() -> None:
    merge = _merge()
    merge.add([_held(JOBS, 0, 0), _held(CANDIDATES, 0, 1)])
    merge.drop({JOBS})
    assert _items(merge.release(500, may_have_more={JOBS})) == []  # jobs not polled again yet
    assert _items(merge.release(500, may_have_more=set())) == ["ats.candidates@0"]


def test_a_partition_that_ran_out_the_wait_is_not_waited_for_again_until_it_sends() -> None:
    clock = Clock()
    merge = _merge(clock)
    merge.add([_held(JOBS, 0, 10)])
    clock.now = 1.0
    assert _items(merge.release(500, may_have_more={CANDIDATES})) == ["ats.jobs@0"]
    merge.add([_held(JOBS, 1, 20)])  # no wait this time: the candidates stayed silent
    assert _items(merge.release(500, may_have_more={CANDIDATES})) == ["ats.jobs@1"]
    merge.add([_held(CANDIDATES, 0, 30), _held(JOBS, 2, 40)])  # it spoke: waited for again
    assert _items(merge.release(500, may_have_more={CANDIDATES})) == ["ats.candidates@0"]


def test_a_refused_record_stops_the_merge_there_and_goes_once_allowed() -> None:
    merge = _merge()
    merge.add([_held(CANDIDATES, 0, 0), _held(CANDIDATES, 1, 20)])
    merge.add([_held(JOBS, 0, 10)])
    allowed = False

    def may_release(held: Held[str]) -> bool:
        return allowed or held.record.topic != "ats.jobs"

    # The candidate at T+0 goes; the job at T+10 does not, nor the candidate after it.
    assert _items(merge.release(500, (), may_release)) == ["ats.candidates@0"]
    assert {p: (h.record.offset, h.time) for p, h in merge.heads().items()} == {
        JOBS: (0, T + timedelta(minutes=10)),
        CANDIDATES: (1, T + timedelta(minutes=20)),
    }
    assert merge.release(500, (), may_release) == []
    allowed = True
    assert _items(merge.release(500, (), may_release)) == ["ats.jobs@0", "ats.candidates@1"]
    assert merge.heads() == {}


def test_a_record_waits_out_its_grace_and_an_earlier_one_arriving_meanwhile_goes_first() -> None:
    clock = Clock()
    merge = EventTimeMerge[str](max_held=100, max_hold_s=1.0, grace_s=0.1, clock=clock)
    merge.add([_held(JOBS, 0, 10)])  # the broker showed the job first...
    assert merge.release(500, may_have_more=set()) == []
    assert merge.grace_left() == pytest.approx(0.1)
    clock.now = 0.05
    merge.add([_held(CANDIDATES, 0, 5)])  # ...and the earlier candidate 50 ms later
    clock.now = 0.1
    assert _items(merge.release(500, may_have_more=set())) == []  # the candidate's grace
    assert merge.grace_left() == pytest.approx(0.05)
    clock.now = 0.2  # the grace ended before the caller asked again: ask now
    assert merge.grace_left() == 0.0
    assert _items(merge.release(500, may_have_more=set())) == ["ats.candidates@0", "ats.jobs@0"]
    assert merge.grace_left() is None


def test_without_grace_the_record_the_broker_showed_first_goes_first() -> None:
    merge = EventTimeMerge[str](max_held=100, max_hold_s=1.0, clock=Clock())
    merge.add([_held(JOBS, 0, 10)])
    assert _items(merge.release(500, may_have_more=set())) == ["ats.jobs@0"]
    assert merge.grace_left() is None


def test_the_grace_counts_from_publishing_so_a_backlog_does_not_wait() -> None:
    wall = 1_000_000.0
    merge = EventTimeMerge[str](
        max_held=100, max_hold_s=1.0, grace_s=0.1, clock=Clock(), wall_clock=lambda: wall
    )

    def published(position: tuple[str, int], offset: int, seconds_ago: float) -> Held[str]:
        held = _held(position, offset, offset)
        stamped = replace(held.record, timestamp_ms=round((wall - seconds_ago) * 1000))
        return replace(held, record=stamped)

    merge.add([published(JOBS, 0, 60.0), published(JOBS, 1, 0.06)])
    assert _items(merge.release(500, may_have_more=set())) == ["ats.jobs@0"]  # long waited
    assert merge.grace_left() == pytest.approx(0.04)  # published 60 ms ago
    merge.add([published(CANDIDATES, 0, -30.0)])  # a publisher's clock ahead of ours
    assert merge.release(500, may_have_more=set()) == []  # first in merge order: waits
    assert merge.grace_left() == pytest.approx(0.1)  # the grace from arrival, no longer


def test_a_merge_waiting_for_a_partition_is_not_waiting_out_a_grace() -> None:
    merge = EventTimeMerge[str](max_held=100, max_hold_s=1.0, grace_s=0.1, clock=Clock())
    merge.add([_held(JOBS, 0, 10)])
    assert merge.release(500, may_have_more={CANDIDATES}) == []
    assert merge.grace_left() is None


def test_untimed_records_and_overdue_merges_do_not_wait_out_the_grace() -> None:
    clock = Clock()
    merge = EventTimeMerge[str](max_held=3, max_hold_s=1.0, grace_s=0.1, clock=clock)
    merge.add([_held(JOBS, 0, None), _held(JOBS, 1, 10)])
    assert _items(merge.release(500, may_have_more=set())) == ["ats.jobs@0"]  # a dead letter
    merge.add([_held(CANDIDATES, 0, 20), _held(CANDIDATES, 1, 30)])  # 3 held: overdue
    assert _items(merge.release(500, may_have_more=set())) == [
        "ats.jobs@1",
        "ats.candidates@0",
        "ats.candidates@1",
    ]
