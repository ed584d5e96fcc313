"""The CloudEvents 1.0 envelope (structured JSON mode) and one event class per type.

A message value is one JSON object: the context attributes at the top level, the type's
payload in `data`. Unknown extension attributes are ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from worker.contracts.ats import CandidateErased, CandidateUpdated, JobClosed, JobOpened
from worker.contracts.base import ContractModel
from worker.contracts.fields import EventId, OutreachId, Timestamp, Verbatim
from worker.contracts.outreach import OutreachCancelled, OutreachRequested
from worker.contracts.status import OutreachFailed, OutreachSent, OutreachSkipped

DATA_CONTENT_TYPE = "application/json"
# The Kafka `content-type` header of a structured-mode CloudEvent (recommended, not required).
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class CloudEvent(ContractModel):
    """Context attributes common to every type. `type` and `data` are narrowed per type below
    (declared here so that they keep their place in the encoded object)."""

    specversion: Literal["1.0"] = Field(description="CloudEvents version; must be 1.0.")
    id: EventId = Field(
        description="Identifies the event together with source: a redelivered or republished "
        "event with the same (source, id) has no further effect."
    )
    source: Annotated[str, Verbatim(1024)] = Field(
        description="Who published the event, e.g. urn:ats:acme-prod."
    )
    type: str
    time: Timestamp | None = Field(
        default=None, description="When the event happened (RFC 3339 with an offset)."
    )
    # Neither is read: `data` is always the JSON object, and what an event is about is in it.
    # The spec dead-letters an event for a missing required attribute or bad data, not for
    # an optional attribute we ignore, so these accept anything. The worker's own events
    # narrow them below to what it writes.
    datacontenttype: Any = Field(
        default=None,
        description="application/json when given; not read (data is always a JSON object).",
    )
    subject: Any = Field(
        default=None, description="What the event is about, e.g. candidate/C-1; not read."
    )
    data: ContractModel


class UnhandledEvent(CloudEvent):
    """A type the consumer skips: its required attributes (`specversion` 1.0, `id`, `source`)
    are still checked, since a message that lacks one is dead-lettered whatever its type. The
    rest is not: the finer rules of `time` (an offset required, years 0001-9999) are ours,
    for the types we read."""

    time: Any = None
    data: Any = None


_SUBJECT_SCHEMA = TypeAdapter(Annotated[str, Verbatim(1024)]).json_schema()


def _promise_what_the_worker_writes(schema: dict[str, Any]) -> None:
    """The published schema states `datacontenttype` and `subject` as the worker writes
    them, while a reader (the mailer) ignores both, as it does on every other type: a
    publisher that leaves them out, or writes `application/json; charset=utf-8`, is within
    CloudEvents and the contract, and its requests must not be dead-lettered."""
    properties = schema["properties"]
    properties["datacontenttype"] = {
        "const": DATA_CONTENT_TYPE,
        "description": "Always application/json.",
        "type": "string",
    }
    properties["subject"] = {**_SUBJECT_SCHEMA, "description": "candidate/{candidate_id}"}
    promised = {*schema["required"], "datacontenttype", "subject"}
    schema["required"] = [name for name in CloudEvent.model_fields if name in promised]


class _WorkerEvent(CloudEvent):
    """The attributes every event the worker publishes carries (EVENTS.md, "Types the worker
    publishes"), stated so that the published schemas promise them."""

    model_config = ConfigDict(json_schema_extra=_promise_what_the_worker_writes)

    id: OutreachId = Field(description="The outreach_id.")
    time: Timestamp = Field(
        description="The decision's reference time: requested_at, or cancelled_at."
    )


class JobOpenedEvent(CloudEvent):
    type: Literal["ats.job.opened"]
    data: JobOpened


class JobClosedEvent(CloudEvent):
    type: Literal["ats.job.closed"]
    data: JobClosed


class CandidateUpdatedEvent(CloudEvent):
    type: Literal["ats.candidate.updated"]
    data: CandidateUpdated


class CandidateErasedEvent(CloudEvent):
    type: Literal["ats.candidate.erased"]
    data: CandidateErased


class OutreachRequestedEvent(_WorkerEvent):
    type: Literal["reengage.outreach.requested"]
    data: OutreachRequested


class OutreachCancelledEvent(_WorkerEvent):
    type: Literal["reengage.outreach.cancelled"]
    data: OutreachCancelled


class OutreachSentEvent(CloudEvent):
    type: Literal["reengage.outreach.sent"]
    data: OutreachSent


class OutreachSkippedEvent(CloudEvent):
    type: Literal["reengage.outreach.skipped"]
    data: OutreachSkipped


class OutreachFailedEvent(CloudEvent):
    type: Literal["reengage.outreach.failed"]
    data: OutreachFailed


AnyEvent = (
    JobOpenedEvent
    | JobClosedEvent
    | CandidateUpdatedEvent
    | CandidateErasedEvent
    | OutreachRequestedEvent
    | OutreachCancelledEvent
    | OutreachSentEvent
    | OutreachSkippedEvent
    | OutreachFailedEvent
)
"""Any event of the contract."""

Event = Annotated[AnyEvent, Field(discriminator="type")]
"""Any event of the contract, as validated: told apart by `type` in one pass."""
