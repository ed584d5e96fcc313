"""The order a batch is applied in: partitions merged by event time, each kept in its order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.contracts.ats import JobClosed, JobOpened
from worker.contracts.encode import ats_event, outreach_failed
from worker.contracts.envelope import AnyEvent
from worker.contracts.examples import example_messages
from worker.contracts.outreach import outreach_id
from worker.contracts.status import OutreachFailed
from worker.ingest.holding import EventTimeMerge, Held
from worker.ingest.ordering import event_time_order
from worker.kafka.records import Record

T = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _opened(job_id: str, at: datetime) -> AnyEvent:
    data = JobOpened(
        tenant_id="acme", job_id=job_id, title="Analyst", required_credentials=(), opened_at=at
    )
    return ats_event(data, event_id=f"open-{job_id}", source="urn:ats:test").event


def _closed(job_id: str, at: datetime) -> AnyEvent:
    data = JobClosed(tenant_id="acme", job_id=job_id, closed_at=at)
    return ats_event(data, event_id=f"close-{job_id}", source="urn:ats:test").event


def _order(*placed: tuple[int, AnyEvent], report_time: datetime = T) -> list[int]:
    records = [
        Record("ats.jobs", partition, offset, None, None)
        for offset, (partition, _) in enumerate(placed)
    ]
    return event_time_order(records, [event for _, event in placed], lambda _: report_time)


def test_partitions_are_merged_by_event_time() -> None:
    # Handed out partition 0 first, but the job on partition 1 opened twenty minutes earlier.
    assert _order((0, _opened("j-103", T + 20 * MINUTE)), (1, _opened("j-101", T))) == [1, 0]


def test_a_partitions_own_order_is_kept_whatever_its_times() -> None:
    order = _order(
        (0, _opened("j-1", T + 10 * MINUTE)),
        (0, _closed("j-1", T)),  # a close dated before the open stays after it
        (1, _opened("j-2", T + 5 * MINUTE)),
    )
    assert order == [2, 0, 1]


def test_one_partition_is_applied_as_handed_out() -> None:
    assert _order((0, _opened("j-2", T + MINUTE)), (0, _opened("j-1", T))) == [0, 1]


def test_equal_times_go_by_partition_not_by_which_came_first() -> None:
    assert _order((1, _opened("j-1", T)), (0, _opened("j-2", T))) == [1, 0]
    assert _order((0, _opened("j-2", T)), (1, _opened("j-1", T))) == [0, 1]


def test_equal_times_go_by_topic_before_partition() -> None:
    records = [Record("ats.jobs", 0, 0, None, None), Record("ats.candidates", 1, 0, None, None)]
    events = [_opened("j-1", T), _opened("j-2", T)]
    assert event_time_order(records, events, lambda _: T) == [1, 0]


def test_a_batch_released_by_the_holding_merge_is_applied_as_released() -> None:
    # holding.py released [p1@T, p0@T+1, p1@T+1] (equal times: partition 0 first). Merging
    # it again must not put partition 1's second record ahead: the order would then depend on
    # where the batch boundaries fell.
    placed = ((1, _opened("a", T)), (0, _opened("b", T + MINUTE)), (1, _opened("c", T + MINUTE)))
    assert _order(*placed) == [0, 1, 2]


def test_a_report_without_a_time_of_its_own_is_dated_by_the_caller() -> None:
    failed = OutreachFailed(
        outreach_id=outreach_id("acme", "j-1", "c-1"),
        tenant_id="acme",
        candidate_id="c-1",
        job_id="j-1",
        reason="bounced",
        detail="550",
    )
    report = outreach_failed(failed, time=None, source="urn:mailer").event
    order = _order((0, report), (1, _opened("j-2", T)), report_time=T - MINUTE)
    assert order == [0, 1]
    order = _order((0, report), (1, _opened("j-2", T)), report_time=T + MINUTE)
    assert order == [1, 0]


# Each dated type with the field that dates it: the merge must read that one, not another
# time of the event (a report's envelope time, a snapshot's last activity).
_DATED_BY = {
    "ats.job.closed": "closed_at",
    "ats.candidate.updated": "updated_at",
    "ats.candidate.erased": "erased_at",
    "reengage.outreach.sent": "sent_at",
}


def _dated(event_type: str, at: datetime) -> AnyEvent:
    event = example_messages()[event_type].event
    return event.model_copy(
        update={"data": event.data.model_copy(update={_DATED_BY[event_type]: at})}
    )


@pytest.mark.parametrize("event_type", sorted(_DATED_BY))
def test_each_type_is_merged_by_its_own_time(event_type: str) -> None:
    later = _dated(event_type, T + 20 * MINUTE)
    assert _order((0, later), (1, _opened("j-1", T)), report_time=T - MINUTE) == [1, 0]
    earlier = _dated(event_type, T - 20 * MINUTE)
    assert _order((1, _opened("j-1", T)), (0, earlier), report_time=T + MINUTE) == [1, 0]


@settings(max_examples=200, deadline=None)
@given(
    partitions=st.dictionaries(
        st.tuples(st.sampled_from(["ats.candidates", "ats.jobs"]), st.integers(0, 2)),
        st.lists(st.integers(0, 3), min_size=1, max_size=6),
        min_size=1,
    ),
    batch_sizes=st.lists(st.integers(1, 5), min_size=1, max_size=10),
)
def test_whatever_the_batch_boundaries_a_released_batch_keeps_its_order(
    partitions: dict[tuple[str, int], list[int]], batch_sizes: list[int]
) -> None:
    # Few distinct minutes, so equal times across partitions are the common case.
    merge: EventTimeMerge[AnyEvent] = EventTimeMerge(max_held=10_000, max_hold_s=60.0)
    for (topic, partition), minutes in partitions.items():
        merge.add(
            Held(Record(topic, partition, offset, None, None), event, event.data.opened_at)
            for offset, minute in enumerate(minutes)
            for event in [_opened(f"{topic}-{partition}-{offset}", T + minute * MINUTE)]
        )
    sizes = iter(batch_sizes)
    while len(merge):
        batch = merge.release(next(sizes, 5), may_have_more=())
        records = [held.record for held in batch]
        events = [held.item for held in batch]
        assert event_time_order(records, events, lambda _: T) == list(range(len(batch)))
