"""Concurrent matching on PostgreSQL: threads matching overlapping jobs of one tenant at once,
each in its own transaction, never contact a candidate twice inside the cooldown and never
exceed a job's cap, and still contact everyone the jobs have room for."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from tests.integration.store.builders import TENANT, job, snapshot
from worker.rules.model import Policy, PolicyOverride
from worker.store.candidates import upsert_candidates
from worker.store.engine import create_store_engine, is_retryable
from worker.store.jobs import upsert_job
from worker.store.matcher import Requested, match_job
from worker.store.schema import OutreachRow
from worker.store.versioning import migrate_engine

pytestmark = pytest.mark.postgres

THREADS = 12
SKILLS = ("excel", "tableau", "spark", "looker", "dbt", "airflow")


@pytest.fixture
def pg_engine(pg_database_url: str) -> Iterator[Engine]:
    engine = create_store_engine(pg_database_url, pool_size=THREADS, max_overflow=0)
    migrate_engine(engine)
    yield engine
    engine.dispose()


def _run_concurrently(engine: Engine, jobs: list[str]) -> tuple[list[Requested], int]:
    """Match each job in its own thread, all released at once; retry deadlocked transactions."""
    barrier = threading.Barrier(len(jobs))
    results: list[Requested] = []
    errors: list[BaseException] = []
    retries = 0
    lock = threading.Lock()

    def work(job_id: str) -> None:
        nonlocal retries
        barrier.wait()
        while True:
            try:
                with engine.begin() as connection:
                    requested = match_job(connection, TENANT, job_id, Policy())
            except Exception as exc:
                if is_retryable(exc):
                    with lock:
                        retries += 1
                    continue
                with lock:
                    errors.append(exc)
                return
            with lock:
                results.extend(requested)
            return

    threads = [threading.Thread(target=work, args=(job_id,)) for job_id in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results, retries


def _stored(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(OutreachRow.job_id, OutreachRow.candidate_id, OutreachRow.rank)
        ).all()
    return [(row.job_id, row.candidate_id, row.rank) for row in rows]


def _seed(engine: Engine, pool_size: int, jobs: dict[str, int]) -> None:
    pool = [
        # Each candidate holds two of the optional skills, so every job ranks them differently.
        snapshot(f"c-{n:04}", credentials=("python", "sql", SKILLS[n % 6], SKILLS[n * 7 % 6]))
        for n in range(pool_size)
    ]
    with engine.begin() as connection:
        upsert_candidates(connection, pool)
        for index, (job_id, cap) in enumerate(jobs.items()):
            upsert_job(
                connection,
                job(
                    job_id,
                    preferred_credentials=(SKILLS[index % 6],),
                    policy=PolicyOverride(max_outreach=cap),
                ),
            )


def _check_invariants(
    engine: Engine, returned: list[Requested], caps: dict[str, int]
) -> list[tuple[str, str, int]]:
    stored = _stored(engine)
    assert sorted((r.job_id, r.candidate_id, r.rank) for r in returned) == sorted(stored)
    # The cooldown: every job opened at the same T, so a candidate is contacted at most once.
    per_candidate = Counter(candidate for _, candidate, _ in stored)
    assert max(per_candidate.values()) == 1
    # The cap, and each job's ranks are its sequence 1..n with no gaps or repeats.
    for job_id, cap in caps.items():
        ranks = sorted(rank for j, _, rank in stored if j == job_id)
        assert len(ranks) <= cap
        assert ranks == list(range(1, len(ranks) + 1))
    return stored


def test_overlapping_jobs_share_the_pool_without_double_contact(pg_engine: Engine) -> None:
    caps = {f"j-{n}": 30 for n in range(6)}  # room for 180; only 120 candidates
    _seed(pg_engine, 120, caps)
    # Every job is matched by two threads at once: contention on the cap and on candidates.
    returned, _retries = _run_concurrently(pg_engine, [*caps, *caps])
    stored = _check_invariants(pg_engine, returned, caps)
    assert len(stored) == 120  # nobody left out while a job had room


def test_one_job_matched_by_many_threads_stops_at_the_cap(pg_engine: Engine) -> None:
    caps = {"j-hot": 10}
    _seed(pg_engine, 50, caps)
    returned, _retries = _run_concurrently(pg_engine, ["j-hot"] * THREADS)
    stored = _check_invariants(pg_engine, returned, caps)
    assert len(stored) == 10


def test_a_later_sequential_match_finds_nothing_left(pg_engine: Engine) -> None:
    caps = {f"j-{n}": 20 for n in range(4)}
    _seed(pg_engine, 60, caps)
    _run_concurrently(pg_engine, list(caps) * 3)
    before = _stored(pg_engine)
    with pg_engine.begin() as connection:
        again = [r for job_id in caps for r in match_job(connection, TENANT, job_id, Policy())]
    assert again == []
    assert len(before) == 60
