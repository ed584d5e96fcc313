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
from typing import TypeVar, get_args
from uuid import uuid5

from worker.contracts.ats import CandidateErased, CandidateUpdated, JobClosed, JobOpened
from worker.contracts.base import ContractModel
from worker.contracts.envelope import (
    DATA_CONTENT_TYPE,
    AnyEvent,
    CandidateErasedEvent,
    CandidateUpdatedEvent,
    CloudEvent,
    JobClosedEvent,
    JobOpenedEvent,
    OutreachCancelledEvent,
    OutreachFailedEvent,
    OutreachRequestedEvent,
    OutreachSentEvent,
    OutreachSkippedEvent,
)
from worker.contracts.outreach import OUTREACH_NAMESPACE, OutreachCancelled, OutreachRequested
from worker.contracts.status import OutreachFailed, OutreachSent, OutreachSkipped

WORKER_SOURCE = "urn:reengage:worker"
MAILER_SOURCE = "urn:reengage:mailer"

_OPTIONAL_ATTRIBUTES = ("time", "datacontenttype", "subject")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a producer sends: the recommended key and the encoded value, with the event."""

    key: bytes
    value: bytes
    event: AnyEvent


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


_E = TypeVar("_E", bound=CloudEvent)


def _event(
    event_class: type[_E],
    data: ContractModel,
    *,
    event_id: str,
    source: str,
    time: datetime | None,
    subject: str | None = None,
) -> _E:
    """One envelope for any type: the type name comes from the class's `type` literal."""
    event_type = get_args(event_class.model_fields["type"].annotation)[0]
    return event_class.model_validate(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": event_type,
            "time": time,
            "datacontenttype": DATA_CONTENT_TYPE,
            "subject": subject,
            "data": data,
        }
    )


def outreach_requested(data: OutreachRequested, *, source: str = WORKER_SOURCE) -> OutgoingMessage:
    return message(
        _event(
            OutreachRequestedEvent,
            data,
            event_id=data.outreach_id,
            source=source,
            time=data.requested_at,
            subject=_subject(data.candidate.candidate_id),
        )
    )


def outreach_cancelled(data: OutreachCancelled, *, source: str = WORKER_SOURCE) -> OutgoingMessage:
    # The spec makes `id` the outreach_id for both worker types, so a requested and a
    # cancelled share (source, id): consumers deduplicate on (source, id, type).
    return message(
        _event(
            OutreachCancelledEvent,
            data,
            event_id=data.outreach_id,
            source=source,
            time=data.cancelled_at,
            subject=_subject(data.candidate_id),
        )
    )


def _status(
    event_class: type[OutreachSentEvent | OutreachSkippedEvent | OutreachFailedEvent],
    data: OutreachSent | OutreachSkipped | OutreachFailed,
    time: datetime,
    source: str,
) -> OutgoingMessage:
    event_type = get_args(event_class.model_fields["type"].annotation)[0]
    return message(
        _event(
            event_class,
            data,
            event_id=status_event_id(data.outreach_id, event_type),
            source=source,
            time=time,
            subject=_subject(data.candidate_id),
        )
    )


def outreach_sent(data: OutreachSent, *, source: str = MAILER_SOURCE) -> OutgoingMessage:
    return _status(OutreachSentEvent, data, data.sent_at, source)


def outreach_skipped(
    data: OutreachSkipped, *, time: datetime, source: str = MAILER_SOURCE
) -> OutgoingMessage:
    return _status(OutreachSkippedEvent, data, time, source)


def outreach_failed(
    data: OutreachFailed, *, time: datetime, source: str = MAILER_SOURCE
) -> OutgoingMessage:
    return _status(OutreachFailedEvent, data, time, source)


AtsData = JobOpened | JobClosed | CandidateUpdated | CandidateErased


def ats_event(
    data: AtsData, *, event_id: str, source: str, time: datetime | None = None
) -> OutgoingMessage:
    """An event as the ATS would publish it (for imports, tests and the examples)."""
    event_class: type[AnyEvent] = _ATS_EVENTS[type(data)]
    return message(_event(event_class, data, event_id=event_id, source=source, time=time))


_ATS_EVENTS: dict[type[ContractModel], type[AnyEvent]] = {
    JobOpened: JobOpenedEvent,
    JobClosed: JobClosedEvent,
    CandidateUpdated: CandidateUpdatedEvent,
    CandidateErased: CandidateErasedEvent,
}
