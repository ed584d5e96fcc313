"""From the wire's models to the domain's values (and back out for the outreach events)."""

from __future__ import annotations

from datetime import UTC

from worker.contracts.ats import CandidateUpdated, JobOpened
from worker.rules.model import Application, EmailStatus, Job, PolicyOverride
from worker.store.candidates import CandidateSnapshot


def snapshot_of(data: CandidateUpdated) -> CandidateSnapshot:
    """Application times in UTC, as the store reads them back: the stored candidate can then
    share the snapshot's applications instead of converting them again."""
    return CandidateSnapshot(
        tenant_id=data.tenant_id,
        candidate_id=data.candidate_id,
        updated_at=data.updated_at,
        email=data.email,
        first_name=data.first_name,
        last_name=data.last_name,
        credentials=tuple(data.credentials),
        location=data.location,
        last_activity_at=data.last_activity_at,
        do_not_contact=data.do_not_contact,
        email_status=EmailStatus(data.email_status),
        consent_expires_at=data.consent_expires_at,
        applications=tuple(
            Application(a.job_id, a.job_title, a.applied_at.astimezone(UTC), a.status)
            for a in data.applications
        ),
    )


def job_of(data: JobOpened) -> Job:
    policy = data.policy
    return Job(
        tenant_id=data.tenant_id,
        job_id=data.job_id,
        title=data.title,
        required_credentials=tuple(data.required_credentials),
        opened_at=data.opened_at,
        preferred_credentials=tuple(data.preferred_credentials),
        location=data.location,
        apply_url=data.apply_url,
        policy=PolicyOverride()
        if policy is None
        else PolicyOverride(
            min_inactive_days=policy.min_inactive_days,
            max_inactive_days=policy.max_inactive_days,
            max_outreach=policy.max_outreach,
        ),
    )
