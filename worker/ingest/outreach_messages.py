"""The outbox rows for `reengage.outreach.requested` and `reengage.outreach.cancelled`.

Built once, in the transaction that decided them, and stored as bytes-to-be: the relay
publishes exactly this payload, so a republish after a crash is identical.
"""

from __future__ import annotations

from datetime import datetime

from worker.contracts.encode import OutgoingMessage, outreach_cancelled, outreach_requested
from worker.contracts.outreach import (
    OutreachCancelled,
    OutreachCandidate,
    OutreachJob,
    OutreachReason,
    OutreachRequested,
    PreviousApplication,
)
from worker.outbox.writer import OutboxMessage
from worker.rules.cancellation import CancellationReason
from worker.rules.model import Candidate, Job
from worker.rules.reason import build_reason
from worker.store.matcher import Requested
from worker.store.outreach import OutreachRef

_HEADERS = {"content-type": "application/cloudevents+json; charset=utf-8"}


def requested_message(
    requested: Requested, candidate: Candidate, job: Job, *, topic: str, source: str
) -> OutboxMessage:
    reason = build_reason(candidate, job, requested.requested_at)
    previous = reason.previous_application
    data = OutreachRequested(
        outreach_id=requested.outreach_id,
        tenant_id=requested.tenant_id,
        job=OutreachJob(
            job_id=job.job_id, title=job.title, apply_url=job.apply_url, location=job.location
        ),
        candidate=OutreachCandidate(
            candidate_id=candidate.candidate_id,
            email=candidate.email or "",
            first_name=candidate.first_name,
            last_name=candidate.last_name,
        ),
        reason=OutreachReason(
            matched_credentials=reason.matched_credentials,
            matched_preferred_credentials=reason.matched_preferred_credentials,
            last_activity_at=reason.last_activity_at,
            inactive_days=reason.inactive_days,
            previous_application=None
            if previous is None
            else PreviousApplication(
                job_id=previous.job_id,
                job_title=previous.job_title,
                applied_at=previous.applied_at,
            ),
            summary=reason.summary,
        ),
        rank=requested.rank,
        trigger=requested.trigger.value,
        requested_at=requested.requested_at,
    )
    return _outbox(outreach_requested(data, source=source), topic)


def cancelled_message(
    ref: OutreachRef, reason: CancellationReason, at: datetime, *, topic: str, source: str
) -> OutboxMessage:
    data = OutreachCancelled(
        outreach_id=ref.outreach_id,
        tenant_id=ref.tenant_id,
        job_id=ref.job_id,
        candidate_id=ref.candidate_id,
        reason=reason.value,
        cancelled_at=at,
    )
    return _outbox(outreach_cancelled(data, source=source), topic)


def _outbox(message: OutgoingMessage, topic: str) -> OutboxMessage:
    return OutboxMessage(
        topic=topic,
        key=message.key.decode(),
        payload=message.value.decode(),
        headers=dict(_HEADERS),
    )
