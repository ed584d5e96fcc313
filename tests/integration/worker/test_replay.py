"""REENGAGEMENT.md: replaying the topics from the beginning into an empty store reproduces the
same outreach set. A replay finds every topic full at once, and a poll hands out whatever the
client has: the job's opening on one partition could come before the candidates stored days
earlier on others, whatever the batch size (ingest/holding.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.worker.harness import (
    Topics,
    base_env,
    count_rows,
    publish,
    read_until,
    running,
    wait_for,
)
from tests.integration.worker.pools import T, as_job, job_opened, make_pool
from worker.contracts.encode import ats_event
from worker.rules.eligibility import effective_policy
from worker.rules.model import Policy
from worker.rules.reference import reference_match
from worker.store.versioning import migrate

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("batch", [1, 500])  # one event a batch, and the default
def test_a_replay_into_an_empty_store_requests_what_the_live_order_did(
    kafka_bootstrap: str, sqlite_url: str, topics: Topics, group_id: str, tmp_path: Path, batch: int
) -> None:
    pool = make_pool(seed=11, size=60)  # every snapshot dated a day before the job opens
    opened = job_opened()
    expected = reference_match(
        as_job(opened), T, effective_policy(as_job(opened), Policy()), pool.as_rules_see_it(), []
    )
    assert expected  # some are eligible
    # Published in the order they happened, all before the worker starts: a replay.
    publish(kafka_bootstrap, topics.candidates, pool.messages())
    publish(kafka_bootstrap, topics.jobs, [ats_event(opened, event_id="job-1", source="urn:t")])
    migrate(sqlite_url)
    env = {
        **base_env(kafka_bootstrap, sqlite_url, topics, group_id),
        "REENGAGE_BATCH_MAX_RECORDS": str(batch),
    }
    with running(["worker"], env, tmp_path / "worker.log") as worker:
        wait_for(lambda: count_rows(sqlite_url, "processed_events") == 61, "every event applied")
        outreach = read_until(
            kafka_bootstrap, topics.outreach, lambda r: len(r) >= len(expected), settle_s=1.0
        )
        assert worker.stop() == 0, worker.output()
    requested = sorted(record.key or b"" for record in outreach)
    assert requested == sorted(f"acme:{d.candidate_id}".encode() for d in expected)
    assert count_rows(sqlite_url, "outreach") == len(expected)
