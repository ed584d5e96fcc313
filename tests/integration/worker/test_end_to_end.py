"""The worker end to end: real broker, real database, real `reengage worker` process."""

from __future__ import annotations

import json
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
from worker.contracts.outreach import outreach_id
from worker.rules.eligibility import effective_policy
from worker.rules.model import Policy
from worker.rules.reference import reference_match

pytestmark = pytest.mark.kafka


def test_outreach_is_exactly_what_the_reference_predicts(
    kafka_bootstrap: str, migrated: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    pool = make_pool(seed=7, size=120)
    opened = job_opened(max_outreach=6)
    expected = reference_match(
        as_job(opened), T, effective_policy(as_job(opened), Policy()), pool.as_rules_see_it(), []
    )
    assert len(expected) == 6  # more are eligible: the cap decides

    env = base_env(kafka_bootstrap, migrated, topics, group_id)
    publish(kafka_bootstrap, topics.candidates, pool.messages())
    with running(["worker"], env, tmp_path / "worker.log") as worker:
        # Candidates first, then the job: its match must see the whole pool.
        records = read_until(kafka_bootstrap, topics.candidates, lambda r: len(r) >= 120)
        assert len(records) == 120
        wait_for(lambda: count_rows(migrated, "candidates") == 120, "120 candidates stored")
        publish(
            kafka_bootstrap,
            topics.jobs,
            [ats_event(opened, event_id="job-1", source="urn:ats:test")],
        )
        outreach = read_until(
            kafka_bootstrap, topics.outreach, lambda r: len(r) >= len(expected), settle_s=1.0
        )
        assert worker.stop() == 0, worker.output()
        text = worker.output()
    log_lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    # The log names each decision by ids, with the event that led to it (OPERATIONS.md), and
    # no address or name.
    logged = [line for line in log_lines if line["event"] == "outreach requested"]
    assert sorted(line["outreach_id"] for line in logged) == sorted(
        outreach_id("acme", "J-1", d.candidate_id) for d in expected
    )
    assert {
        (line["tenant_id"], line["job_id"], line["topic"], line["partition"], line["event_id"])
        for line in logged
    } == {("acme", "J-1", topics.jobs, 0, "job-1")}
    assert sorted(line["rank"] for line in logged) == [1, 2, 3, 4, 5, 6]
    assert all(isinstance(line["offset"], int) for line in logged)
    for update in pool.updates:
        assert update.email is None or update.email not in text
        assert update.last_name is None or f'"{update.last_name}"' not in text

    events = [json.loads(r.value) for r in outreach]
    assert [e["type"] for e in events] == ["reengage.outreach.requested"] * len(expected)
    by_rank = sorted(events, key=lambda e: e["data"]["rank"])
    assert [e["data"]["candidate"]["candidate_id"] for e in by_rank] == [
        d.candidate_id for d in expected
    ]
    for event, decision, record in zip(
        by_rank,
        expected,
        sorted(outreach, key=lambda r: json.loads(r.value)["data"]["rank"]),
        strict=True,
    ):
        data = event["data"]
        assert event["id"] == outreach_id("acme", "J-1", decision.candidate_id)
        assert event["source"] == "urn:reengage:worker"
        assert event["subject"] == f"candidate/{decision.candidate_id}"
        assert record.key == f"acme:{decision.candidate_id}".encode()
        assert data["rank"] == decision.rank
        assert data["trigger"] == "job.opened"
        assert data["reason"]["summary"] == decision.reason.summary
        assert data["reason"]["inactive_days"] == decision.inactive_days
        assert tuple(data["reason"]["matched_credentials"]) == decision.reason.matched_credentials
