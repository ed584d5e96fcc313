"""The status page's SQL funnel against the reference rules, on both databases: the demo's
data set stored and matched through the store's own functions (no broker needed here)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import func, select

from tests.integration.store.builders import DAY, TENANT, T, record_outreach, snapshot
from tests.integration.store.builders import job as builder_job
from tests.integration.store.test_matcher_property import Scenario, scenarios
from worker.demo.dataset import DemoOptions, build
from worker.ingest.translate import job_of, snapshot_of
from worker.rules.eligibility import Exclusion, effective_policy
from worker.rules.model import Policy
from worker.rules.reference import exclusion_counts
from worker.status_page.collect import collect
from worker.status_page.funnel import STAGES, as_opened, job_funnel
from worker.store.candidates import (
    erase_candidate,
    stream_candidates,
    upsert_candidates,
)
from worker.store.engine import create_store_engine
from worker.store.jobs import close_job, load_job, upsert_job
from worker.store.matcher import match_job
from worker.store.outreach import past_outreach
from worker.store.schema import OutreachRow
from worker.store.suppression import suppress_email
from worker.store.versioning import migrate_engine

DEFAULTS = Policy()


def test_the_sql_funnel_is_the_reference_funnel(database_url: str) -> None:
    dataset = build(DemoOptions(seed=5, candidates=500, jobs=6))
    engine = create_store_engine(database_url)
    try:
        migrate_engine(engine)
        with engine.begin() as connection:
            upsert_candidates(connection, [snapshot_of(c) for c in dataset.candidates])
        for opened in dataset.jobs:
            with engine.begin() as connection:
                upsert_job(connection, job_of(opened))
                match_job(connection, opened.tenant_id, opened.job_id, DEFAULTS)
        first, last = dataset.jobs[0], dataset.jobs[-1]
        with engine.begin() as connection:
            # A closed job keeps the funnel of the match it had.
            close_job(connection, first.tenant_id, first.job_id, first.opened_at + timedelta(1))

        with engine.connect() as connection:
            for opened in dataset.jobs:
                job = load_job(connection, opened.tenant_id, opened.job_id)
                assert job is not None
                funnel = job_funnel(connection, job, DEFAULTS)
                policy = effective_policy(as_opened(job), DEFAULTS)
                pool = list(stream_candidates(connection, job.tenant_id))
                history = [
                    o for o in past_outreach(connection, job.tenant_id) if o.job_id != job.job_id
                ]
                expected = exclusion_counts(as_opened(job), job.opened_at, policy, pool, history)
                assert funnel.pool == len(pool)
                assert {s: funnel.excluded[s] for s in STAGES} == {s: expected[s] for s in STAGES}
                assert sum(expected[r] for r in Exclusion if r not in STAGES) == 0
                requested = connection.execute(
                    select(func.count()).where(
                        OutreachRow.tenant_id == job.tenant_id, OutreachRow.job_id == job.job_id
                    )
                ).scalar_one()
                # Nothing changed since the jobs opened: the funnel ends at what was requested.
                assert funnel.requestable == requested
            assert any(
                job_funnel(connection, j, DEFAULTS).excluded[Exclusion.COOLDOWN]
                for j in (job_of(o) for o in dataset.jobs)
            )

        # An erased candidate leaves the pool (the tombstone is not a candidate).
        victim = next(c for c in dataset.candidates if c.tenant_id == last.tenant_id)
        with engine.begin() as connection:
            erase_candidate(
                connection, victim.tenant_id, victim.candidate_id, last.opened_at + timedelta(1)
            )
        with engine.connect() as connection:
            job = load_job(connection, last.tenant_id, last.job_id)
            assert job is not None
            pool_size = sum(1 for c in dataset.candidates if c.tenant_id == last.tenant_id)
            assert job_funnel(connection, job, DEFAULTS).pool == pool_size - 1

        report = collect(engine, DEFAULTS, dead_letters=dict)
        assert report.jobs_total == report.jobs_shown == 6
        assert sum(report.outreach_totals.values()) == sum(
            j.requested_total for t in report.tenants for j in t.jobs
        )
        closed = [j for t in report.tenants for j in t.jobs if j.closed]
        assert [(j.job.tenant_id, j.job.job_id) for j in closed] == [
            (first.tenant_id, first.job_id)
        ]
        assert report.outbox.pending == 0  # match_job alone writes no outbox rows
        bounded = collect(engine, DEFAULTS, max_jobs=2, dead_letters=dict)
        assert (bounded.jobs_shown, bounded.jobs_total) == (2, 6)
        # Every tenant on the page knows how many jobs it opened, shown or not, and the page
        # shows at most max_jobs tenants.
        opened: dict[str, int] = {}
        for job in dataset.jobs:
            opened[job.tenant_id] = opened.get(job.tenant_id, 0) + 1
        assert len(bounded.tenants) <= 2
        assert all(t.jobs_opened == opened.get(t.tenant_id, 0) for t in bounded.tenants)
        assert len(bounded.tenants) + bounded.tenants_hidden == len(
            {c.tenant_id for c in dataset.candidates} | set(opened)
        )
    finally:
        engine.dispose()


# Edge-heavy scenarios (exact day boundaries, consent at T, cooldown edges, look-alike
# spellings, suppressed addresses, closed jobs), shared with the matcher's property test.
_tenants = itertools.count()


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(scenario=scenarios(min_pool=30, max_pool=120))
def test_the_sql_funnel_equals_the_reference_at_the_edges(
    database_url: str, scenario: Scenario
) -> None:
    tenant = f"edge-{next(_tenants)}"
    engine = create_store_engine(database_url)
    try:
        migrate_engine(engine)
        with engine.begin() as connection:
            upsert_candidates(connection, [replace(s, tenant_id=tenant) for s, _ in scenario.pool])
            for snapshot, suppressed in scenario.pool:
                if suppressed:
                    suppress_email(connection, tenant, snapshot.candidate_id)
            for job_id, candidate_id, requested_at, status in scenario.history:
                record_outreach(
                    connection, job_id, candidate_id, requested_at, tenant_id=tenant, status=status
                )
            upsert_job(connection, replace(scenario.job, tenant_id=tenant))
        with engine.connect() as connection:
            job = load_job(connection, tenant, scenario.job.job_id)
            assert job is not None
            funnel = job_funnel(connection, job, scenario.defaults)
            pool = list(stream_candidates(connection, tenant))
            history = [o for o in past_outreach(connection, tenant) if o.job_id != job.job_id]
        opened = as_opened(job)
        policy = effective_policy(opened, scenario.defaults)
        expected = exclusion_counts(opened, opened.opened_at, policy, pool, history)
        assert funnel.pool == len(pool)
        assert dict(funnel.excluded) == {stage: expected[stage] for stage in STAGES}
    finally:
        engine.dispose()


def test_cooldown_counts_other_jobs_in_the_window_and_never_the_jobs_own(
    database_url: str,
) -> None:
    """Cooldown is (T - cooldown_days, T + cooldown_days), other jobs only: the job's own
    outreach is its result, not a reason."""
    engine = create_store_engine(database_url)
    t, micro = T, timedelta(microseconds=1)
    at = {
        "at-window-start": t - 21 * DAY,  # outside: the interval is open there
        "just-inside": t - 21 * DAY + micro,
        "at-t": t,
        "after-t": t + micro,  # a later job decided first: blocks a decision at T now
        "just-inside-after": t + 21 * DAY - micro,
        "at-window-end": t + 21 * DAY,  # outside: open there too
    }
    try:
        migrate_engine(engine)
        with engine.begin() as connection:
            ids = [*at, "own-job", "nobody"]
            upsert_candidates(connection, [snapshot(candidate_id) for candidate_id in ids])
            for candidate_id, requested_at in at.items():
                record_outreach(connection, "other-job", candidate_id, requested_at)
            record_outreach(connection, "j-1", "own-job", t)
            upsert_job(connection, builder_job())
        with engine.connect() as connection:
            stored = load_job(connection, TENANT, "j-1")
            assert stored is not None
            funnel = job_funnel(connection, stored, Policy(cooldown_days=21))
        assert funnel.pool == 8
        assert funnel.excluded[Exclusion.COOLDOWN] == 4
        assert funnel.eligible == 4
    finally:
        engine.dispose()


def test_a_job_opened_at_the_start_of_the_calendar_has_a_funnel(database_url: str) -> None:
    """Its windows reach back before year 1: they start at the earliest instant instead."""
    early = T.replace(year=1, month=1, day=20)
    engine = create_store_engine(database_url)
    try:
        migrate_engine(engine)
        with engine.begin() as connection:
            upsert_candidates(connection, [snapshot("c-1", last_activity_at=early - 10 * DAY)])
            upsert_job(connection, builder_job(opened_at=early))
        with engine.connect() as connection:
            job = load_job(connection, TENANT, "j-1")
            assert job is not None
            funnel = job_funnel(connection, job, DEFAULTS)
    finally:
        engine.dispose()
    assert funnel.pool == 1
    assert funnel.excluded[Exclusion.NOT_DORMANT_ENOUGH] == 1  # 10 days inactive at T
