"""The order a batch is applied in: each partition's records in their order, the partitions
merged by event time.

A poll hands records out partition by partition, and the ATS's recommended keys spread one
tenant's jobs over several partitions. Applied as handed out, two jobs opened twenty minutes
apart could be decided later one first: rule 9 counts only outreach requested up to a
decision's own time, so the earlier job then finds the candidates the later one just claimed
outside its cooldown window, and contacts them again. Merged by event time, a batch is decided
as the events happened, whichever partition each came from. Within a partition nothing moves:
that order is the publisher's, and a job's close must stay after its open.

Event times are the contract's own (`opened_at`, `updated_at`, ...), and equal times go by topic
and partition, never by which poll or batch came first, so a replay orders alike. Across polls,
holding.py holds records back and merges them by the same key; the batches it releases are in
this order already, and merging one again leaves it as it is (a prefix of a merge is the merge
of its parts).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from datetime import datetime

from worker.contracts.envelope import (
    AnyEvent,
    CandidateErasedEvent,
    CandidateUpdatedEvent,
    JobClosedEvent,
    JobOpenedEvent,
    OutreachSentEvent,
)
from worker.kafka.records import Record


def event_time_order(
    records: Sequence[Record],
    events: Sequence[AnyEvent],
    time_of_report: Callable[[int], datetime],
) -> list[int]:
    """Indexes into `records`/`events` (one event per record) in the order to apply them.
    `time_of_report(i)` dates a mailer report that is not `sent` (the contract gives `failed`
    no time of its own)."""
    by_partition: dict[tuple[str, int], list[int]] = {}
    for index, record in enumerate(records):
        by_partition.setdefault(record.position, []).append(index)
    if len(by_partition) < 2:
        return list(range(len(records)))

    def moment(index: int) -> datetime:
        own = event_moment(events[index])
        return time_of_report(index) if own is None else own

    # heapq.merge keeps each partition's order (it only ever takes a partition's first
    # remaining record) and, for equal times, takes the earlier of its inputs: given in
    # (topic, partition) order, that is holding.py's tie-break.
    return list(heapq.merge(*(by_partition[key] for key in sorted(by_partition)), key=moment))


def event_moment(event: AnyEvent) -> datetime | None:
    """When the event happened, by the contract's own field; None for a mailer report the
    contract gives no time of its own (`failed`, `skipped`)."""
    match event:
        case CandidateUpdatedEvent(data=data):
            return data.updated_at
        case JobOpenedEvent(data=data):
            return data.opened_at
        case JobClosedEvent(data=data):
            return data.closed_at
        case CandidateErasedEvent(data=data):
            return data.erased_at
        case OutreachSentEvent(data=data):
            return data.sent_at
        case _:
            return None
