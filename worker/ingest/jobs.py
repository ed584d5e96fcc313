"""`ats.job.opened` (store, match, request) and `ats.job.closed` (store, cancel unsent)."""

from __future__ import annotations

import time

from worker.contracts.ats import JobClosed, JobOpened
from worker.ingest.context import EmptyWindow, HandlerContext
from worker.ingest.translate import job_of
from worker.rules.cancellation import CancellationReason
from worker.rules.eligibility import effective_policy
from worker.runtime.metrics import MATCH_SECONDS
from worker.store.candidates import load_candidates
from worker.store.jobs import close_job, upsert_job
from worker.store.matcher import match_job
from worker.store.outreach import cancel_pending


def job_opened(ctx: HandlerContext, data: JobOpened) -> bool:
    """False when the open is older than the stored one (stale)."""
    job = job_of(data)
    if not upsert_job(ctx.connection, job):
        return False
    policy = effective_policy(job, ctx.config.policy)
    if policy.min_inactive_days > policy.max_inactive_days:
        ctx.effects.empty_windows.append(
            EmptyWindow(
                job.tenant_id,
                job.job_id,
                policy.min_inactive_days,
                policy.max_inactive_days,
                ctx.origin,
            )
        )
    started = time.perf_counter()
    requested = match_job(ctx.connection, job.tenant_id, job.job_id, ctx.config.policy)
    if requested:
        candidates = load_candidates(
            ctx.connection, job.tenant_id, (r.candidate_id for r in requested)
        )
        ctx.request(requested, candidates, job)
    MATCH_SECONDS.observe(time.perf_counter() - started)
    return True


def job_closed(ctx: HandlerContext, data: JobClosed) -> None:
    """Cancel what was requested and not yet sent, unless the job was reopened after this
    close: then the outreach belongs to an open job."""
    if not close_job(ctx.connection, data.tenant_id, data.job_id, data.closed_at):
        return
    refs = cancel_pending(
        ctx.connection,
        data.tenant_id,
        CancellationReason.JOB_CLOSED,
        data.closed_at,
        job_id=data.job_id,
    )
    ctx.cancel(refs, CancellationReason.JOB_CLOSED, data.closed_at)
