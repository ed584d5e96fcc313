"""Scale-out and a database outage, on PostgreSQL (production's database)."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from dev.local_postgres import LocalPostgres
from tests.integration.worker.harness import (
    Process,
    Topics,
    base_env,
    count_rows,
    http_port_of,
    metric,
    publish,
    query,
    read_until,
    running,
    wait_for,
)
from tests.integration.worker.pools import SKILLS, T, as_job, job_opened, make_pool
from worker.contracts.encode import ats_event
from worker.rules.model import Policy
from worker.rules.reference import reference_match
from worker.store.versioning import migrate

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

SOURCE = "urn:ats:test"


def test_three_workers_in_one_group_apply_everything_once_within_caps_and_cooldown(
    kafka_bootstrap: str, pg_database_url: str, make_topic, group_id: str, tmp_path: Path
) -> None:
    url = pg_database_url
    migrate(url)
    topics = Topics(
        jobs=make_topic(2), candidates=make_topic(6), outreach=make_topic(3), status=make_topic(1)
    )
    env = {**base_env(kafka_bootstrap, url, topics, group_id), "REENGAGE_BATCH_MAX_RECORDS": "100"}
    pool = make_pool(seed=21, size=1500)
    # A second wave at T: every candidate gains every skill, so reverse matching (at T, for
    # jobs opened at T) meets candidates the jobs' own matches already claimed.
    wave = [
        u.model_copy(update={"credentials": tuple(SKILLS), "updated_at": T})
        for u in pool.updates[::3]
    ]
    jobs = [job_opened(job_id=f"J-{n}", required=(SKILLS[n],), max_outreach=40) for n in range(4)]
    total = len(pool.updates) + len(wave) + len(jobs)

    with (
        running(["worker"], env, tmp_path / "w1.log") as w1,
        running(["worker"], env, tmp_path / "w2.log") as w2,
    ):
        publish(kafka_bootstrap, topics.candidates, pool.messages())
        wait_for(lambda: count_rows(url, "processed_events") >= 500, "the first events processed")
        with running(["worker"], env, tmp_path / "w3.log") as w3:
            publish(
                kafka_bootstrap,
                topics.jobs,
                [ats_event(j, event_id=f"open-{j.job_id}", source="urn:ats:test") for j in jobs],
            )
            publish(
                kafka_bootstrap,
                topics.candidates,
                [
                    ats_event(u, event_id=f"wave-{u.candidate_id}", source="urn:ats:test")
                    for u in wave
                ],
            )
            wait_for(
                lambda: count_rows(url, "processed_events") == total,
                "every event processed",
                timeout_s=120,
            )
            ports = [http_port_of(w) for w in (w1, w2, w3)]
            wait_for(
                lambda: count_rows(url, "outbox WHERE published_at IS NULL") == 0, "outbox drained"
            )

            def applied() -> int:
                return sum(
                    metric(p, "reengage_events_total", outcome=outcome)
                    for p in ports
                    for outcome in ("processed", "stale")
                )

            # Counted after the offset commit, which follows the database's: wait, not peek.
            # More than `total` would be an event applied twice, and is caught below.
            wait_for(lambda: applied() >= total, "every event counted")
            counted = applied()
            assert w3.stop() == 0, w3.output()
        assert w1.stop() == 0, w1.output()
        assert w2.stop() == 0, w2.output()

    # Each event applied exactly once across the three (re-deliveries count as duplicates).
    assert counted == total
    rows = query(url, "SELECT job_id, candidate_id, requested_at, rank FROM outreach")
    per_job = Counter(r.job_id for r in rows)
    assert per_job and all(n <= 40 for n in per_job.values())
    for job_id in per_job:
        assert sorted(r.rank for r in rows if r.job_id == job_id) == list(
            range(1, per_job[job_id] + 1)
        )
    per_candidate = Counter(r.candidate_id for r in rows)
    assert max(per_candidate.values()) == 1  # everything at T: a second one would be in cooldown

    published = read_until(
        kafka_bootstrap,
        topics.outreach,
        lambda r: len({json.loads(x.value)["id"] for x in r}) >= len(rows),
        settle_s=1.0,
    )
    assert len({json.loads(r.value)["id"] for r in published}) == len(rows)


def _partitions_held(process: Process, topic: str) -> list[int]:
    """The partitions of `topic` in the process's latest assignment."""
    assigned = [
        json.loads(line)["partitions"]
        for line in process.output().splitlines()
        if '"partitions assigned"' in line
    ]
    return [p for t, p in assigned[-1] if t == topic] if assigned else []


def test_a_worker_behind_does_not_contact_again_whom_another_worker_requested_for_a_later_job(
    kafka_bootstrap: str, pg_database_url: str, make_topic, group_id: str, tmp_path: Path
) -> None:
    """Two workers, one jobs partition each. The 10:30 job is decided first (its worker is
    ahead); the 09:30 job reaches the other worker afterwards, as it would one that is behind.
    Rule 9 read only backwards from 09:30 would contact everyone again, an hour apart."""
    url = pg_database_url
    migrate(url)
    topics = Topics(
        jobs=make_topic(2), candidates=make_topic(1), outreach=make_topic(1), status=make_topic(1)
    )
    env = base_env(kafka_bootstrap, url, topics, group_id)
    pool = make_pool(seed=5, size=300)
    later = job_opened(job_id="J-later", required=("SQL",), opened_at=T + timedelta(hours=1))
    earlier = job_opened(job_id="J-earlier", required=("SQL",), opened_at=T)

    with (
        running(["worker"], env, tmp_path / "w1.log") as w1,
        running(["worker"], env, tmp_path / "w2.log") as w2,
    ):
        wait_for(
            lambda: all(len(_partitions_held(w, topics.jobs)) == 1 for w in (w1, w2)),
            "one jobs partition each",
        )
        publish(kafka_bootstrap, topics.candidates, pool.messages())
        wait_for(lambda: count_rows(url, "processed_events") == 300, "the pool stored")
        publish(
            kafka_bootstrap,
            topics.jobs,
            [ats_event(later, event_id="open-later", source=SOURCE)],
            1,
        )
        wait_for(lambda: count_rows(url, "processed_events") == 301, "the later job decided")
        publish(
            kafka_bootstrap,
            topics.jobs,
            [ats_event(earlier, event_id="open-earlier", source=SOURCE)],
            0,
        )
        wait_for(lambda: count_rows(url, "processed_events") == 302, "the earlier job decided")
        assert w1.stop() == 0, w1.output()
        assert w2.stop() == 0, w2.output()

    rows = query(url, "SELECT job_id, candidate_id FROM outreach")
    per_job = Counter(r.job_id for r in rows)
    assert per_job["J-later"] > 10  # the test means something only if many were requested
    assert per_job["J-earlier"] == 0
    assert max(Counter(r.candidate_id for r in rows).values()) == 1


def test_a_job_waits_for_a_do_not_contact_flag_still_on_a_worker_that_is_behind(
    kafka_bootstrap: str, pg_database_url: str, make_topic, group_id: str, tmp_path: Path
) -> None:
    """Worker A holds the candidate partition where a do-not-contact flag dated before the job
    waits (A is stopped: behind); worker B holds the job. B must not decide the job until A
    has applied the flag: the candidate is never requested, so never emailed."""
    url = pg_database_url
    migrate(url)
    topics = Topics(
        jobs=make_topic(2), candidates=make_topic(2), outreach=make_topic(1), status=make_topic(1)
    )
    env = {
        **base_env(kafka_bootstrap, url, topics, group_id),
        # The stopped worker must stay a member while the job waits for it (no member is
        # killed here, so the harness's short session buys nothing): evicted, its partitions
        # would move to the other worker, which would then have nobody to wait for.
        "REENGAGE_KAFKA_SESSION_TIMEOUT_MS": "45000",
    }
    pool = make_pool(seed=5, size=200)
    job = job_opened(job_id="J-1", required=("SQL",), opened_at=T + timedelta(hours=1))
    expected = reference_match(as_job(job), job.opened_at, Policy(), pool.as_rules_see_it(), [])
    victim = next(u for u in pool.updates if u.candidate_id == expected[0].candidate_id)
    flagged = victim.model_copy(
        update={"do_not_contact": True, "updated_at": T + timedelta(minutes=30)}
    )

    with (
        running(["worker"], env, tmp_path / "w1.log") as w1,
        running(["worker"], env, tmp_path / "w2.log") as w2,
    ):
        workers = (w1, w2)
        wait_for(
            lambda: all(
                len(_partitions_held(w, t)) == 1
                for w in workers
                for t in (topics.jobs, topics.candidates)
            ),
            "one jobs and one candidates partition each",
        )
        publish(kafka_bootstrap, topics.candidates, pool.messages())
        wait_for(lambda: count_rows(url, "processed_events") == 200, "the pool stored")
        behind = next(w for w in workers if _partitions_held(w, topics.candidates) == [0])
        ahead = next(w for w in workers if w is not behind)
        behind.signal(signal.SIGSTOP)
        try:
            flag = ats_event(flagged, event_id="flag", source=SOURCE)
            publish(kafka_bootstrap, topics.candidates, [flag], 0)
            opened = ats_event(job, event_id="open", source=SOURCE)
            publish(kafka_bootstrap, topics.jobs, [opened], _partitions_held(ahead, topics.jobs)[0])
            wait_for(
                lambda: "job waits for the group" in ahead.output(), "the job held", timeout_s=15
            )
            assert count_rows(url, "outreach") == 0
        finally:
            behind.signal(signal.SIGCONT)
        wait_for(lambda: count_rows(url, "processed_events") == 202, "the flag and the job")
        wait_for(lambda: count_rows(url, "outreach") > 0, "the job decided")
        assert w1.stop() == 0, w1.output()
        assert w2.stop() == 0, w2.output()

    rows = query(url, "SELECT candidate_id, status FROM outreach")
    requested = {r.candidate_id for r in rows}
    assert victim.candidate_id not in requested
    assert requested == {d.candidate_id for d in expected[1:]}
    assert {r.status for r in rows} == {"requested"}  # nothing requested, then cancelled


def test_database_outage_of_20_s_the_worker_stays_in_the_group_and_loses_nothing(
    kafka_bootstrap: str, topics: Topics, group_id: str, tmp_path: Path, own_postgres: LocalPostgres
) -> None:
    server = own_postgres
    url = server.url
    migrate(url)
    env = base_env(kafka_bootstrap, url, topics, group_id)
    pool = make_pool(seed=8, size=1200)
    first, second = pool.messages()[:600], pool.messages()[600:]
    with running(["worker"], env, tmp_path / "w.log") as worker:
        publish(kafka_bootstrap, topics.candidates, first)
        wait_for(lambda: count_rows(url, "processed_events") == 600, "the first half processed")
        assigned_before = worker.output().count("partitions assigned")
        server.halt()
        publish(kafka_bootstrap, topics.candidates, second)
        time.sleep(20)
        assert worker.popen.poll() is None, worker.output()
        server.resume()
        wait_for(
            lambda: count_rows(url, "processed_events") == 1200,
            "the second half processed",
            timeout_s=120,
        )
        port = http_port_of(worker)
        # Counted after the offset commit, which follows the database's: wait, not peek.
        wait_for(
            lambda: metric(port, "reengage_events_total", outcome="processed") == 1200,
            "every event counted as processed",
        )
        log = worker.output()
        assert worker.stop() == 0, log
    assert "transient failure, retrying" in log
    # No rebalance happened: the member kept its partitions through the outage.
    assert log.count("partitions assigned") == assigned_before
    assert "partitions lost" not in log
    assert count_rows(url, "candidates") == 1200


def test_an_outage_longer_than_the_retry_budget_stops_the_worker_and_dead_letters_nothing(
    kafka_bootstrap: str, topics: Topics, group_id: str, tmp_path: Path, own_postgres: LocalPostgres
) -> None:
    server = own_postgres
    url = server.url
    migrate(url)
    env = {
        **base_env(kafka_bootstrap, url, topics, group_id),
        "REENGAGE_RETRY_BUDGET_SECONDS": "3",
    }
    pool = make_pool(seed=8, size=40)
    with running(["worker"], env, tmp_path / "w.log") as worker:
        publish(kafka_bootstrap, topics.candidates, pool.messages()[:20])
        wait_for(lambda: count_rows(url, "processed_events") == 20, "the first events processed")
        server.halt()
        publish(kafka_bootstrap, topics.candidates, pool.messages()[20:])
        assert worker.wait(60) == 1, worker.output()
        log = worker.output()
    assert "RetryBudgetSpentError" in log
    dead = read_until(kafka_bootstrap, topics.candidates + ".dlq", lambda r: False, timeout_s=3)
    assert dead == []  # valid events are never dead-lettered for an outage
    server.resume()
    with running(["worker"], env, tmp_path / "w2.log") as worker:
        wait_for(
            lambda: count_rows(url, "processed_events") == 40,
            "the rest processed after restart",
        )
        assert worker.stop() == 0, worker.output()
