"""Terse builders for store tests: a dormant, contactable, qualified candidate and an open
job by default, changed per case with keyword arguments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from worker.contracts.outreach import outreach_id
from worker.rules.days import days_before
from worker.rules.model import EmailStatus, Job, Policy, PolicyOverride
from worker.store.candidates import CandidateSnapshot, load_candidates
from worker.store.jobs import jobs_opened_between
from worker.store.matcher import Requested, reverse_match
from worker.store.schema import OutreachRow

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TENANT = "acme"


def snapshot(candidate_id: str = "c-1", **changes: Any) -> CandidateSnapshot:
    base = CandidateSnapshot(
        tenant_id=TENANT,
        candidate_id=candidate_id,
        updated_at=T - 30 * DAY,
        email=f"{candidate_id}@example.com",
        first_name="Ada",
        last_name="Lovelace",
        credentials=("Python", "SQL"),
        last_activity_at=T - 200 * DAY,
        email_status=EmailStatus.VALID,
    )
    return replace(base, **changes)


def job(job_id: str = "j-1", **changes: Any) -> Job:
    base = Job(
        tenant_id=TENANT,
        job_id=job_id,
        title="Data Analyst",
        required_credentials=("python", "sql"),
        preferred_credentials=("Tableau",),
        opened_at=T,
        policy=PolicyOverride(),
    )
    return replace(base, **changes)


def record_outreach(
    connection: Connection,
    job_id: str,
    candidate_id: str,
    requested_at: datetime,
    *,
    tenant_id: str = TENANT,
    status: str = "requested",
) -> None:
    """An outreach made earlier (by an earlier match), with the job's next rank."""
    so_far = connection.execute(
        select(func.count()).where(OutreachRow.tenant_id == tenant_id, OutreachRow.job_id == job_id)
    ).scalar_one()
    connection.execute(
        insert(OutreachRow),
        [
            {
                "outreach_id": outreach_id(tenant_id, job_id, candidate_id),
                "tenant_id": tenant_id,
                "job_id": job_id,
                "candidate_id": candidate_id,
                "rank": so_far + 1,
                "trigger": "job.opened",
                "requested_at": requested_at,
                "status": status,
            }
        ],
    )


def reverse_match_stored(
    connection: Connection, tenant_id: str, candidate_id: str, at: datetime, defaults: Policy
) -> list[Requested]:
    """`reverse_match` as the candidate handler calls it, for a candidate already stored:
    against the tenant's open jobs in the window, every request in job order."""
    candidate = load_candidates(connection, tenant_id, [candidate_id])[candidate_id]
    start = days_before(at, defaults.reverse_match_window_days)
    jobs = jobs_opened_between(connection, tenant_id, start, at)
    return [
        request
        for _, requested in reverse_match(connection, candidate, at, defaults, jobs)
        for request in requested
    ]
