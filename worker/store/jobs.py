"""Jobs: opened (and re-opened), closed, and read back as the rules' `Job`.

A job is open when it has been opened and not closed since: `closed_at` is null or earlier
than `opened_at` (the rules' `job_is_closed`). Closes are recorded even for unknown jobs, and
the latest close is kept, so a late `ats.job.opened` with an earlier `opened_at` stays closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.engine import Connection

from worker.rules.model import Job, PolicyOverride
from worker.store.credential_keys import credential_keys
from worker.store.dialect import upsert
from worker.store.schema import JobRow


def open_clause() -> ColumnElement[bool]:
    """SQL for "the job is open": opened, and not closed at or after `opened_at`."""
    return and_(
        JobRow.opened_at.is_not(None),
        or_(JobRow.closed_at.is_(None), JobRow.closed_at < JobRow.opened_at),
    )


def upsert_job(connection: Connection, job: Job) -> bool:
    """Store an opened job. A republish or a reopen (same or later `opened_at`) replaces the
    stored fields; an open older than the stored one is stale and changes nothing. The stored
    `closed_at` is kept either way. True when applied."""
    values: dict[str, Any] = {
        "tenant_id": job.tenant_id,
        "job_id": job.job_id,
        "title": job.title,
        "location": job.location,
        "apply_url": job.apply_url,
        "required_credentials": list(job.required_credentials),
        "preferred_credentials": list(job.preferred_credentials),
        "required_normalised": sorted(credential_keys(job.required_credentials)),
        "preferred_normalised": sorted(credential_keys(job.preferred_credentials)),
        "min_inactive_days": job.policy.min_inactive_days,
        "max_inactive_days": job.policy.max_inactive_days,
        "max_outreach": job.policy.max_outreach,
        "opened_at": job.opened_at,
        "closed_at": job.closed_at,
    }
    insert = upsert(connection, JobRow).values(values)
    replaced = [name for name in values if name not in ("tenant_id", "job_id", "closed_at")]
    statement = insert.on_conflict_do_update(
        index_elements=[JobRow.tenant_id, JobRow.job_id],
        set_={name: insert.excluded[name] for name in replaced},
        where=or_(JobRow.opened_at.is_(None), JobRow.opened_at <= insert.excluded.opened_at),
    ).returning(JobRow.job_id)
    return connection.execute(statement).first() is not None


def close_job(connection: Connection, tenant_id: str, job_id: str, closed_at: datetime) -> bool:
    """Record a close (the latest one wins), creating a closed-only record for an unknown job.
    True when the job is closed now; False when it stays open, because it was reopened after
    this close (a late or repeated close changes nothing for the reopened job)."""
    insert = upsert(connection, JobRow).values(
        tenant_id=tenant_id,
        job_id=job_id,
        required_credentials=[],
        preferred_credentials=[],
        required_normalised=[],
        preferred_normalised=[],
        closed_at=closed_at,
    )
    statement = insert.on_conflict_do_update(
        index_elements=[JobRow.tenant_id, JobRow.job_id],
        set_={
            "closed_at": case(
                (
                    or_(JobRow.closed_at.is_(None), JobRow.closed_at < insert.excluded.closed_at),
                    insert.excluded.closed_at,
                ),
                else_=JobRow.closed_at,
            )
        },
    ).returning(open_clause())
    still_open = connection.execute(statement).scalar_one()
    return not still_open


def load_job(
    connection: Connection, tenant_id: str, job_id: str, *, for_update: bool = False
) -> Job | None:
    """The stored job, or None if it was never opened. `for_update` locks the row (on
    PostgreSQL; SQLite's write transaction already excludes other writers)."""
    statement = select(JobRow).where(JobRow.tenant_id == tenant_id, JobRow.job_id == job_id)
    if for_update:
        statement = statement.with_for_update()
    row = connection.execute(statement).first()
    return None if row is None else _job(row._mapping)


def jobs_opened_between(
    connection: Connection, tenant_id: str, start: datetime, end: datetime
) -> list[Job]:
    """The tenant's open jobs with `opened_at` in [start, end], oldest first (ties: job id)."""
    statement = (
        select(JobRow)
        .where(
            JobRow.tenant_id == tenant_id,
            JobRow.opened_at >= start,
            JobRow.opened_at <= end,
            open_clause(),
        )
        .order_by(JobRow.opened_at, JobRow.job_id)
    )
    jobs = (_job(row._mapping) for row in connection.execute(statement))
    return [job for job in jobs if job is not None]


def _job(row: Any) -> Job | None:
    if row["opened_at"] is None or row["title"] is None:
        return None  # only a close was ever recorded
    return Job(
        tenant_id=row["tenant_id"],
        job_id=row["job_id"],
        title=row["title"],
        required_credentials=tuple(row["required_credentials"]),
        opened_at=row["opened_at"],
        preferred_credentials=tuple(row["preferred_credentials"]),
        location=row["location"],
        apply_url=row["apply_url"],
        closed_at=row["closed_at"],
        policy=PolicyOverride(
            min_inactive_days=row["min_inactive_days"],
            max_inactive_days=row["max_inactive_days"],
            max_outreach=row["max_outreach"],
        ),
    )
