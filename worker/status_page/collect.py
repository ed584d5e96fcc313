"""Reads what the status page shows: jobs and their funnels, outreach by status, the outbox
backlog (database, one read-only connection) and dead letters (metrics registry)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from worker.outbox.gauges import outbox_backlog
from worker.rules.model import Policy
from worker.status_page.dead_letters import dead_letters_by_topic
from worker.status_page.funnel import job_funnel
from worker.status_page.report import (
    OUTREACH_STATUSES,
    JobStatus,
    StatusReport,
    TenantStatus,
)
from worker.store.candidates import in_pool
from worker.store.engine import READ_ONLY
from worker.store.jobs import load_job
from worker.store.schema import CandidateRow, JobRow, OutreachRow

# Each funnel scans its tenant's pool: keep a page view to a bounded number of them. The
# page shows as many tenant sections: those of the jobs shown first, then others by id.
DEFAULT_MAX_JOBS = 20

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def collect(
    engine: Engine,
    defaults: Policy,
    *,
    max_jobs: int = DEFAULT_MAX_JOBS,
    dead_letters: Callable[[], dict[str, int]] = dead_letters_by_topic,
    clock: Clock = _now,
) -> StatusReport:
    now = clock()
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        opened_by_tenant = _opened_jobs_by_tenant(connection)
        job_keys = _recent_jobs(connection, max_jobs)
        outreach = _outreach_by_job(connection)
        pools = _pool_sizes(connection)
        by_tenant: dict[str, list[JobStatus]] = defaultdict(list)
        for tenant_id, job_id in job_keys:
            job = load_job(connection, tenant_id, job_id)
            if job is None:
                continue
            counts = outreach.get((tenant_id, job_id), {})
            by_tenant[tenant_id].append(
                JobStatus(
                    job=job,
                    funnel=job_funnel(connection, job, defaults),
                    outreach={s: counts.get(s, 0) for s in OUTREACH_STATUSES},
                )
            )
        backlog = outbox_backlog(connection, now)
        database = connection.dialect.name
    every_tenant = sorted(set(pools) | set(opened_by_tenant) | set(by_tenant))
    with_jobs = [t for t in every_tenant if by_tenant[t]]
    others = [t for t in every_tenant if not by_tenant[t]][: max(0, max_jobs - len(with_jobs))]
    tenants = tuple(
        TenantStatus(
            tenant_id=t,
            pool=pools.get(t, 0),
            jobs=tuple(by_tenant[t]),
            jobs_opened=opened_by_tenant.get(t, 0),
        )
        for t in sorted(with_jobs + others)
    )
    totals = {s: sum(c.get(s, 0) for c in outreach.values()) for s in OUTREACH_STATUSES}
    return StatusReport(
        generated_at=now,
        database=database,
        tenants=tenants,
        jobs_total=sum(opened_by_tenant.values()),
        jobs_shown=sum(len(t.jobs) for t in tenants),
        outreach_totals=totals,
        outbox=backlog,
        dead_letters=dead_letters(),
        tenants_hidden=len(every_tenant) - len(tenants),
    )


def _opened_jobs_by_tenant(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        select(JobRow.tenant_id, func.count())
        .where(JobRow.opened_at.is_not(None))
        .group_by(JobRow.tenant_id)
    )
    return {tenant_id: int(n) for tenant_id, n in rows}


def _recent_jobs(connection: Connection, limit: int) -> list[tuple[str, str]]:
    """The `limit` most recently opened jobs (tenant, job), in tenant order, then newest
    first."""
    rows = connection.execute(
        select(JobRow.tenant_id, JobRow.job_id)
        .where(JobRow.opened_at.is_not(None))
        .order_by(JobRow.opened_at.desc(), JobRow.tenant_id, JobRow.job_id)
        .limit(limit)
    ).all()
    keys = [(row.tenant_id, row.job_id) for row in rows]
    # Stable: within a tenant the newest-first order of the query is kept.
    keys.sort(key=lambda key: key[0])
    return keys


def _outreach_by_job(connection: Connection) -> dict[tuple[str, str], dict[str, int]]:
    rows = connection.execute(
        select(
            OutreachRow.tenant_id, OutreachRow.job_id, OutreachRow.status, func.count()
        ).group_by(OutreachRow.tenant_id, OutreachRow.job_id, OutreachRow.status)
    )
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for tenant_id, job_id, status, n in rows:
        counts[(tenant_id, job_id)][status] = int(n)
    return counts


def _pool_sizes(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        select(CandidateRow.tenant_id, func.count())
        .where(in_pool())
        .group_by(CandidateRow.tenant_id)
    )
    return {tenant_id: int(n) for tenant_id, n in rows}
