"""`ats.candidate.updated` (store, cancel, reverse-match) and `ats.candidate.erased`.

Snapshots are stored in runs (one set-based upsert, which returns the stored rows), then each
applied snapshot is handled in arrival order. A run never holds one candidate twice, so the
state returned by the upsert is that snapshot's own, and the outcome is the same as one event
at a time: batch boundaries never change a decision.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from worker.contracts.ats import CandidateErased, CandidateUpdated
from worker.ingest.context import HandlerContext, Origin
from worker.ingest.translate import snapshot_of
from worker.rules.cancellation import CancellationReason, cancellation_reason
from worker.rules.days import days_before
from worker.rules.model import Candidate, Job
from worker.runtime.metrics import MATCH_SECONDS
from worker.store.candidates import UpsertOutcome, erase_candidate, store_snapshots
from worker.store.jobs import jobs_opened_between
from worker.store.matcher import reverse_match
from worker.store.outreach import cancel_pending, candidates_with_pending


def split_into_runs(updates: Sequence[CandidateUpdated]) -> list[list[CandidateUpdated]]:
    """Consecutive updates grouped so that no group names one candidate twice."""
    runs: list[list[CandidateUpdated]] = []
    seen: set[tuple[str, str]] = set()
    for update in updates:
        key = (update.tenant_id, update.candidate_id)
        if not runs or key in seen:
            runs.append([])
            seen = set()
        runs[-1].append(update)
        seen.add(key)
    return runs


def candidates_updated(
    ctx: HandlerContext, run: Sequence[CandidateUpdated], origins: Sequence[Origin | None]
) -> list[bool]:
    """Store a run of snapshots (each from the record at the same place in `origins`); per
    snapshot, True if applied, False if stale or erased."""
    results = store_snapshots(ctx.connection, [snapshot_of(u) for u in run])
    # Per applied snapshot: the candidate it left, and why that candidate can no longer be
    # contacted (None: it can).
    decided = [
        (result.candidate, cancellation_reason(result.candidate, update.updated_at), update, origin)
        for update, origin, result in zip(run, origins, results, strict=True)
        if result.candidate is not None
    ]
    jobs = _RecentJobs(ctx, [update for _, _, update, _ in decided])
    pending = _with_pending_outreach(ctx, [c for c, reason, _, _ in decided if reason is not None])
    for candidate, reason, update, origin in decided:
        ctx.origin = origin
        at = update.updated_at
        if reason is None:
            _reverse_match(ctx, candidate, at, jobs.for_candidate(candidate.tenant_id, at))
        elif (candidate.tenant_id, candidate.candidate_id) in pending:
            refs = cancel_pending(
                ctx.connection, candidate.tenant_id, reason, at, candidate_id=candidate.candidate_id
            )
            ctx.cancel(refs, reason, at)
    return [r.outcome is UpsertOutcome.APPLIED for r in results]


def _with_pending_outreach(
    ctx: HandlerContext, uncontactable: Sequence[Candidate]
) -> set[tuple[str, str]]:
    """Of the run's candidates that now call for a cancellation, those with something to
    cancel.

    Asked once per run, after the upsert: the upsert holds these candidates' row locks (and
    on SQLite the write lock) until commit, and every claim takes the same lock, so no
    outreach can appear for them between this query and the cancellation below. Usually few
    have any pending outreach, and each of those costs one update instead of every
    uncontactable candidate costing one.
    """
    by_tenant: dict[str, list[str]] = {}
    for candidate in uncontactable:
        by_tenant.setdefault(candidate.tenant_id, []).append(candidate.candidate_id)
    return {
        (tenant_id, candidate_id)
        for tenant_id, candidate_ids in sorted(by_tenant.items())
        for candidate_id in candidates_with_pending(ctx.connection, tenant_id, candidate_ids)
    }


def _reverse_match(
    ctx: HandlerContext, candidate: Candidate, at: datetime, jobs: Sequence[Job]
) -> None:
    """No open job in the window, no match: nothing is timed either (most updates, and
    `reengage_match_seconds` is about matches)."""
    if not jobs:
        return
    started = time.perf_counter()
    for job, requested in reverse_match(ctx.connection, candidate, at, ctx.config.policy, jobs):
        ctx.request(requested, {candidate.candidate_id: candidate}, job)
    MATCH_SECONDS.observe(time.perf_counter() - started)


class _RecentJobs:
    """The open jobs a run's snapshots may be reverse-matched against: one query per tenant
    per run, filtered per snapshot to [T - window, T]."""

    def __init__(self, ctx: HandlerContext, updates: Sequence[CandidateUpdated]) -> None:
        self._window_days = ctx.config.policy.reverse_match_window_days
        self._jobs: dict[str, list[Job]] = {}
        for tenant_id in sorted({u.tenant_id for u in updates}):
            times = [u.updated_at for u in updates if u.tenant_id == tenant_id]
            self._jobs[tenant_id] = jobs_opened_between(
                ctx.connection, tenant_id, days_before(min(times), self._window_days), max(times)
            )

    def for_candidate(self, tenant_id: str, at: datetime) -> list[Job]:
        start = days_before(at, self._window_days)
        return [j for j in self._jobs.get(tenant_id, []) if start <= j.opened_at <= at]


def candidate_erased(ctx: HandlerContext, data: CandidateErased) -> None:
    erase_candidate(ctx.connection, data.tenant_id, data.candidate_id, data.erased_at)
    refs = cancel_pending(
        ctx.connection,
        data.tenant_id,
        CancellationReason.ERASED,
        data.erased_at,
        candidate_id=data.candidate_id,
    )
    ctx.cancel(refs, CancellationReason.ERASED, data.erased_at)
