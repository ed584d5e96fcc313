"""Every event type of the contract: its class, default topic, recommended key and producer.

The one table the decoder, the encoder and the schema export read, so a new type is added in
one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

from worker.contracts.envelope import (
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

TOPIC_JOBS = "ats.jobs"
TOPIC_CANDIDATES = "ats.candidates"
TOPIC_OUTREACH = "reengage.outreach"
TOPIC_STATUS = "reengage.outreach.status"
DLQ_SUFFIX = ".dlq"

JOB_KEY = "{tenant_id}:{job_id}"
CANDIDATE_KEY = "{tenant_id}:{candidate_id}"

Producer = Literal["ATS", "worker", "mailer"]


@dataclass(frozen=True, slots=True)
class EventKind:
    event_class: type[CloudEvent]
    topic: str
    key_template: str
    producer: Producer

    @property
    def type(self) -> str:
        name: str = get_args(self.event_class.model_fields["type"].annotation)[0]
        return name


KINDS: tuple[EventKind, ...] = (
    EventKind(JobOpenedEvent, TOPIC_JOBS, JOB_KEY, "ATS"),
    EventKind(JobClosedEvent, TOPIC_JOBS, JOB_KEY, "ATS"),
    EventKind(CandidateUpdatedEvent, TOPIC_CANDIDATES, CANDIDATE_KEY, "ATS"),
    EventKind(CandidateErasedEvent, TOPIC_CANDIDATES, CANDIDATE_KEY, "ATS"),
    EventKind(OutreachRequestedEvent, TOPIC_OUTREACH, CANDIDATE_KEY, "worker"),
    EventKind(OutreachCancelledEvent, TOPIC_OUTREACH, CANDIDATE_KEY, "worker"),
    EventKind(OutreachSentEvent, TOPIC_STATUS, CANDIDATE_KEY, "mailer"),
    EventKind(OutreachSkippedEvent, TOPIC_STATUS, CANDIDATE_KEY, "mailer"),
    EventKind(OutreachFailedEvent, TOPIC_STATUS, CANDIDATE_KEY, "mailer"),
)

BY_TYPE: Mapping[str, EventKind] = MappingProxyType({kind.type: kind for kind in KINDS})
ALL_TYPES: frozenset[str] = frozenset(BY_TYPE)
TOPICS: tuple[str, ...] = tuple(dict.fromkeys(kind.topic for kind in KINDS))


# What each of our consumers handles, on whichever of its topics it arrives: the worker reads
# `ats.jobs`, `ats.candidates` and `reengage.outreach.status` with one decoder, the mailer
# `reengage.outreach`. Not `reengage.outreach.skipped`: it changes nothing in the worker, so
# like any type a consumer does not handle it is skipped and counted (EVENTS.md).
WORKER_TYPES: frozenset[str] = frozenset(
    {
        "ats.job.opened",
        "ats.job.closed",
        "ats.candidate.updated",
        "ats.candidate.erased",
        "reengage.outreach.sent",
        "reengage.outreach.failed",
    }
)
MAILER_TYPES: frozenset[str] = frozenset(
    {"reengage.outreach.requested", "reengage.outreach.cancelled"}
)


def types_on(topic: str) -> frozenset[str]:
    """The types the contract puts on a default topic."""
    return frozenset(kind.type for kind in KINDS if kind.topic == topic)
