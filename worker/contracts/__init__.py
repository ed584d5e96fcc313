"""The event contract (shared/spec/EVENTS.md): models, decoding at the edge, encoding.

Modules, in the order a message travels: `fields` (shared field types), `ats`, `outreach` and
`status` (each type's `data`), `envelope` (the CloudEvent around it), `catalogue` (types,
topics, keys), `decode` (bytes in), `encode` (bytes out). `json_schema`, `asyncapi`,
`examples` and `export` publish the contract to `schemas/`.
"""

from worker.contracts.ats import (
    Application,
    CandidateErased,
    CandidateUpdated,
    JobClosed,
    JobOpened,
    JobPolicy,
)
from worker.contracts.catalogue import ALL_TYPES, BY_TYPE, KINDS, EventKind, types_on
from worker.contracts.decode import Decoded, DecodeResult, Invalid, Skipped, decode
from worker.contracts.encode import (
    MAILER_SOURCE,
    WORKER_SOURCE,
    OutgoingMessage,
    ats_event,
    encode,
    outreach_cancelled,
    outreach_failed,
    outreach_requested,
    outreach_sent,
    outreach_skipped,
    partition_key,
)
from worker.contracts.envelope import (
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
from worker.contracts.outreach import (
    OutreachCancelled,
    OutreachCandidate,
    OutreachJob,
    OutreachReason,
    OutreachRequested,
    PreviousApplication,
    outreach_id,
)
from worker.contracts.status import OutreachFailed, OutreachSent, OutreachSkipped

__all__ = [
    "ALL_TYPES",
    "BY_TYPE",
    "KINDS",
    "MAILER_SOURCE",
    "WORKER_SOURCE",
    "AnyEvent",
    "Application",
    "CandidateErased",
    "CandidateErasedEvent",
    "CandidateUpdated",
    "CandidateUpdatedEvent",
    "DecodeResult",
    "Decoded",
    "EventKind",
    "Invalid",
    "JobClosed",
    "JobClosedEvent",
    "JobOpened",
    "JobOpenedEvent",
    "JobPolicy",
    "OutgoingMessage",
    "OutreachCancelled",
    "OutreachCancelledEvent",
    "OutreachCandidate",
    "OutreachFailed",
    "OutreachFailedEvent",
    "OutreachJob",
    "OutreachReason",
    "OutreachRequested",
    "OutreachRequestedEvent",
    "OutreachSent",
    "OutreachSentEvent",
    "OutreachSkipped",
    "OutreachSkippedEvent",
    "PreviousApplication",
    "Skipped",
    "ats_event",
    "decode",
    "encode",
    "outreach_cancelled",
    "outreach_failed",
    "outreach_id",
    "outreach_requested",
    "outreach_sent",
    "outreach_skipped",
    "partition_key",
    "types_on",
]
