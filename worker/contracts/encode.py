"""Encoding: envelopes for the events the worker and the mailer publish, as Kafka key and value.

Encoding is deterministic (the same event gives the same bytes): the relay may republish a
row after a crash and must produce the same body. Compact JSON, UTF-8, attributes and fields
in the contract's order, timestamps in UTC as `2026-11-20T09:30:00Z` (microseconds only when
there are any), optional envelope attributes left out rather than null, and every `data`
field written (null where it has no value).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from worker.contracts.ats import CandidateErased, CandidateUpdated, JobClosed, JobOpened
from worker.contracts.envelope import (
    DATA_CONTENT_TYPE,
    AnyEvent,
    CandidateErasedEvent,
    CandidateUpdatedEvent,
    JobClosedEvent,
    JobOpenedEvent,
    OutreachCancelledEvent,
    OutreachFailedEvent,
    OutreachRequestedEvent,
    OutreachSentEvent,
    OutreachSkippedEvent,
)
from worker.contracts.outreach import OutreachCancelled, OutreachRequested
from worker.contracts.status import OutreachFailed, OutreachSent, OutreachSkipped

OUTREACH_NAMESPACE = UUID("c7d2887b-df6a-55c3-8e79-53aa763e879f")
WORKER_SOURCE = "urn:reengage:worker"
MAILER_SOURCE = "urn:reengage:mailer"

_OPTIONAL_ATTRIBUTES = ("time", "datacontenttype", "subject")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a producer sends: the recommended key and the encoded value, with the event."""

    key: bytes
    value: bytes
    event: AnyEvent


def outreach_id(tenant_id: str, job_id: str, candidate_id: str) -> str:
    """Stable across restarts, replays and redeployments: consumers deduplicate on it."""
    return str(uuid5(OUTREACH_NAMESPACE, f"{tenant_id}/{job_id}/{candidate_id}"))


def status_event_id(outreach: str, event_type: str) -> str:
    """A mailer's status event id: one per outreach and status type, so a republished status
    deduplicates while `sent` and a later `failed` for the same outreach stay distinct."""
    return str(uuid5(OUTREACH_NAMESPACE, f"{outreach}/{event_type}"))


def encode(event: AnyEvent) -> bytes:
    """The message value: the event as compact UTF-8 JSON, deterministic."""
    absent = {name for name in _OPTIONAL_ATTRIBUTES if getattr(event, name) is None}
    return event.model_dump_json(exclude=absent).encode()


def partition_key(event: AnyEvent) -> str:
    """The recommended Kafka key: everything about one job, or one candidate, in order."""
    match event:
        case JobOpenedEvent() | JobClosedEvent():
            return f"{event.data.tenant_id}:{event.data.job_id}"
        case OutreachRequestedEvent():
            return f"{event.data.tenant_id}:{event.data.candidate.candidate_id}"
        case _:
            return f"{event.data.tenant_id}:{event.data.candidate_id}"


def message(event: AnyEvent) -> OutgoingMessage:
    return OutgoingMessage(partition_key(event).encode(), encode(event), event)


def _subject(candidate_id: str) -> str:
    return f"candidate/{candidate_id}"


def outreach_requested(data: OutreachRequested, *, source: str = WORKER_SOURCE) -> OutgoingMessage:
    return message(
        OutreachRequestedEvent(
            specversion="1.0",
            id=data.outreach_id,
            source=source,
            type="reengage.outreach.requested",
            time=data.requested_at,
            datacontenttype=DATA_CONTENT_TYPE,
            subject=_subject(data.candidate.candidate_id),
            data=data,
        )
    )


def outreach_cancelled(data: OutreachCancelled, *, source: str = WORKER_SOURCE) -> OutgoingMessage:
    # The spec makes `id` the outreach_id for both worker types, so a requested and a
    # cancelled share (source, id): consumers deduplicate on (source, id, type).
    return message(
        OutreachCancelledEvent(
            specversion="1.0",
            id=data.outreach_id,
            source=source,
            type="reengage.outreach.cancelled",
            time=data.cancelled_at,
            datacontenttype=DATA_CONTENT_TYPE,
            subject=_subject(data.candidate_id),
            data=data,
        )
    )


def outreach_sent(data: OutreachSent, *, source: str = MAILER_SOURCE) -> OutgoingMessage:
    return message(
        OutreachSentEvent(
            specversion="1.0",
            id=status_event_id(data.outreach_id, "reengage.outreach.sent"),
            source=source,
            type="reengage.outreach.sent",
            time=data.sent_at,
            datacontenttype=DATA_CONTENT_TYPE,
            subject=_subject(data.candidate_id),
            data=data,
        )
    )


def outreach_skipped(
    data: OutreachSkipped, *, time: datetime, source: str = MAILER_SOURCE
) -> OutgoingMessage:
    return message(
        OutreachSkippedEvent(
            specversion="1.0",
            id=status_event_id(data.outreach_id, "reengage.outreach.skipped"),
            source=source,
            type="reengage.outreach.skipped",
            time=time,
            datacontenttype=DATA_CONTENT_TYPE,
            subject=_subject(data.candidate_id),
            data=data,
        )
    )


def outreach_failed(
    data: OutreachFailed, *, time: datetime, source: str = MAILER_SOURCE
) -> OutgoingMessage:
    return message(
        OutreachFailedEvent(
            specversion="1.0",
            id=status_event_id(data.outreach_id, "reengage.outreach.failed"),
            source=source,
            type="reengage.outreach.failed",
            time=time,
            datacontenttype=DATA_CONTENT_TYPE,
            subject=_subject(data.candidate_id),
            data=data,
        )
    )


AtsData = JobOpened | JobClosed | CandidateUpdated | CandidateErased


def ats_event(
    data: AtsData, *, event_id: str, source: str, time: datetime | None = None
) -> OutgoingMessage:
    """An event as the ATS would publish it (for imports, tests and the examples)."""
    event: AnyEvent
    match data:
        case JobOpened():
            event = JobOpenedEvent(
                specversion="1.0",
                id=event_id,
                source=source,
                type="ats.job.opened",
                time=time,
                datacontenttype=DATA_CONTENT_TYPE,
                data=data,
            )
        case JobClosed():
            event = JobClosedEvent(
                specversion="1.0",
                id=event_id,
                source=source,
                type="ats.job.closed",
                time=time,
                datacontenttype=DATA_CONTENT_TYPE,
                data=data,
            )
        case CandidateUpdated():
            event = CandidateUpdatedEvent(
                specversion="1.0",
                id=event_id,
                source=source,
                type="ats.candidate.updated",
                time=time,
                datacontenttype=DATA_CONTENT_TYPE,
                data=data,
            )
        case CandidateErased():
            event = CandidateErasedEvent(
                specversion="1.0",
                id=event_id,
                source=source,
                type="ats.candidate.erased",
                time=time,
                datacontenttype=DATA_CONTENT_TYPE,
                data=data,
            )
    return message(event)
