"""One realistic example message per type, built with the encoders.

They are exported to `schemas/examples/` and into the AsyncAPI document, so what producer
teams copy is what our code writes. All of them tell one story: Acme opens a Senior Data
Analyst job, Jane (dormant since August 2025) matches and is contacted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from worker.contracts.ats import (
    Application,
    CandidateErased,
    CandidateUpdated,
    JobClosed,
    JobOpened,
    JobPolicy,
)
from worker.contracts.encode import (
    OutgoingMessage,
    ats_event,
    outreach_cancelled,
    outreach_failed,
    outreach_requested,
    outreach_sent,
    outreach_skipped,
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

_ATS_SOURCE = "urn:ats:acme-prod"
_TENANT = "acme"
_JOB = "J-1042"
_CANDIDATE = "C-77"
_OPENED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
_LAST_ACTIVE = datetime(2025, 8, 14, 16, 2, 11, tzinfo=timezone(timedelta(hours=2)))
_OUTREACH = outreach_id(_TENANT, _JOB, _CANDIDATE)
_CLOSED = datetime(2026, 12, 18, 17, 0, tzinfo=UTC)
_UPDATED = datetime(2026, 11, 2, 8, 15, tzinfo=UTC)
_ERASED = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
# The ATS's own event ids (any string of 1-256 characters; UUIDs are common).
_EVENT_IDS = (
    "b5f0c6d2-8f7e-4c1b-9a51-0d4f1c2e9a10",
    "0c5b3f4e-1d2a-4b6c-8e9f-7a1b2c3d4e5f",
    "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
)


def example_messages() -> dict[str, OutgoingMessage]:
    """Keyed by CloudEvents type, in the contract's order."""
    messages = (
        ats_event(_job_opened(), event_id=_EVENT_IDS[0], source=_ATS_SOURCE, time=_OPENED),
        ats_event(_job_closed(), event_id=_EVENT_IDS[1], source=_ATS_SOURCE, time=_CLOSED),
        ats_event(_candidate_updated(), event_id=_EVENT_IDS[2], source=_ATS_SOURCE, time=_UPDATED),
        ats_event(_candidate_erased(), event_id=_EVENT_IDS[3], source=_ATS_SOURCE, time=_ERASED),
        outreach_requested(_outreach_requested()),
        outreach_cancelled(_outreach_cancelled()),
        outreach_sent(_outreach_sent()),
        outreach_skipped(_outreach_skipped(), time=_OPENED + timedelta(minutes=5)),
        outreach_failed(_outreach_failed(), time=_OPENED + timedelta(minutes=10)),
    )
    return {message.event.type: message for message in messages}


def _job_closed() -> JobClosed:
    return JobClosed(tenant_id=_TENANT, job_id=_JOB, closed_at=_CLOSED)


def _candidate_erased() -> CandidateErased:
    return CandidateErased(tenant_id=_TENANT, candidate_id="C-78", erased_at=_ERASED)


def _outreach_cancelled() -> OutreachCancelled:
    return OutreachCancelled(
        outreach_id=_OUTREACH,
        tenant_id=_TENANT,
        job_id=_JOB,
        candidate_id=_CANDIDATE,
        reason="job_closed",
        cancelled_at=_CLOSED,
    )


def _outreach_sent() -> OutreachSent:
    return OutreachSent(
        outreach_id=_OUTREACH,
        tenant_id=_TENANT,
        candidate_id=_CANDIDATE,
        job_id=_JOB,
        sent_at=_OPENED + timedelta(minutes=1, seconds=4, milliseconds=250),
        message_id="<20261120093104.7f3a9c@mail.acme.example>",
    )


def _outreach_skipped() -> OutreachSkipped:
    return OutreachSkipped(
        outreach_id=_OUTREACH,
        tenant_id=_TENANT,
        candidate_id=_CANDIDATE,
        job_id=_JOB,
        reason="duplicate",
    )


def _outreach_failed() -> OutreachFailed:
    return OutreachFailed(
        outreach_id=_OUTREACH,
        tenant_id=_TENANT,
        candidate_id=_CANDIDATE,
        job_id=_JOB,
        reason="bounced",
        detail="550 5.1.1 mailbox unavailable",
    )


def _job_opened() -> JobOpened:
    return JobOpened(
        tenant_id=_TENANT,
        job_id=_JOB,
        title="Senior Data Analyst",
        required_credentials=("SQL", "Tableau"),
        preferred_credentials=("Python", "dbt"),
        location="Berlin, Germany",
        apply_url="https://careers.acme.example/jobs/J-1042",
        opened_at=_OPENED,
        policy=JobPolicy(min_inactive_days=120, max_inactive_days=540, max_outreach=50),
    )


def _candidate_updated() -> CandidateUpdated:
    return CandidateUpdated(
        tenant_id=_TENANT,
        candidate_id=_CANDIDATE,
        email="jane.doe@example.com",
        first_name="Jane",
        last_name="Doe",
        credentials=("sql", "Tableau", "Python", "Excel"),
        location="Berlin, Germany",
        last_activity_at=_LAST_ACTIVE,
        do_not_contact=False,
        email_status="valid",
        consent_expires_at=datetime(2028, 1, 1, tzinfo=UTC),
        applications=(
            Application(
                job_id="J-0815",
                job_title="Data Analyst",
                applied_at=datetime(2025, 3, 2, 10, 15, tzinfo=UTC),
                status="rejected",
            ),
        ),
        updated_at=_UPDATED,
    )


def _outreach_requested() -> OutreachRequested:
    return OutreachRequested(
        outreach_id=_OUTREACH,
        tenant_id=_TENANT,
        job=OutreachJob(
            job_id=_JOB,
            title="Senior Data Analyst",
            apply_url="https://careers.acme.example/jobs/J-1042",
            location="Berlin, Germany",
        ),
        candidate=OutreachCandidate(
            candidate_id=_CANDIDATE,
            email="jane.doe@example.com",
            first_name="Jane",
            last_name="Doe",
        ),
        reason=OutreachReason(
            matched_credentials=("SQL", "Tableau"),
            matched_preferred_credentials=("Python",),
            last_activity_at=_LAST_ACTIVE,
            inactive_days=462,
            previous_application=PreviousApplication(
                job_id="J-0815",
                job_title="Data Analyst",
                applied_at=datetime(2025, 3, 2, 10, 15, tzinfo=UTC),
            ),
            summary="You applied for Data Analyst in March 2025; this new Senior Data Analyst "
            "role asks for SQL and Tableau, which are on your profile.",
        ),
        rank=1,
        trigger="job.opened",
        requested_at=_OPENED,
    )
