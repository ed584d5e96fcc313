"""REENGAGEMENT.md: replaying the topics from the beginning into an empty store reproduces the
same outreach set. A replay finds every topic full at once, and a poll hands out whatever the
client has: the job's opening on one partition could come before the candidates stored days
earlier on others, whatever the batch size (ingest/holding.py)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer

from tests.fixtures.kafka import MakeTopic
from tests.integration.worker.harness import (
    Consumed,
    Topics,
    base_env,
    count_rows,
    publish,
    query,
    read_until,
    running,
    wait_for,
)
from tests.integration.worker.pools import SKILLS, T, as_job, job_opened, make_pool
from worker.contracts.encode import OutgoingMessage, ats_event
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


def _timeline(seed: int) -> list[tuple[datetime, str, OutgoingMessage]]:
    """(event time, "jobs" or "candidates", message), in event-time order: a pool stored a
    day before, then jobs opening an hour apart, each shortly after candidates became fit
    for it and shortly before some asked not to be contacted. Whether an outreach is
    requested by the opening or by the update, at which rank, and whether it is cancelled,
    depends on every event being applied in event-time order across partitions."""
    rng = random.Random(seed)
    pool = make_pool(seed=seed, size=80)
    timeline = [
        (update.updated_at, "candidates", message)
        for update, message in zip(pool.updates, pool.messages(), strict=True)
    ]
    for k in range(8):
        opened_at = T + timedelta(hours=k)
        required = rng.choice(SKILLS)
        opened = job_opened(
            job_id=f"J-{k}", required=(required,), opened_at=opened_at, max_outreach=6
        )
        timeline.append((opened_at, "jobs", ats_event(opened, event_id=f"job-{k}", source="urn:t")))
        for n, candidate in enumerate(rng.sample(pool.updates, 12)):
            minute = rng.randint(1, 29) + 30 * (n % 2)  # no two of one candidate at once
            fit = n % 2 == 0
            changes: dict[str, object] = (
                {
                    "do_not_contact": False,
                    "email_status": "valid",
                    "consent_expires_at": None,
                    "credentials": (*candidate.credentials, required),
                    "last_activity_at": T - timedelta(days=250),
                    "updated_at": opened_at - timedelta(minutes=minute),
                }
                if fit
                else {"do_not_contact": True, "updated_at": opened_at + timedelta(minutes=minute)}
            )
            update = candidate.model_copy(update=changes)
            event = ats_event(update, event_id=f"cand-{update.candidate_id}-{k}-{n}", source="x")
            timeline.append((update.updated_at, "candidates", event))
    return sorted(timeline, key=lambda entry: entry[0])


def _publish_in_bursts(
    bootstrap: str, topics: Topics, messages: list[tuple[str, OutgoingMessage]]
) -> None:
    """In their order, 20 at a time, each burst acknowledged and followed by a pause: an ATS
    publishing as things happen, in the order they happened."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for start in range(0, len(messages), 20):
            for kind, message in messages[start : start + 20]:
                topic = topics.jobs if kind == "jobs" else topics.candidates
                producer.send(topic, key=message.key, value=message.value)
            producer.flush(30)
            time.sleep(0.4)
    finally:
        producer.close()


def _decisions(records: list[Consumed]) -> list[tuple[str, ...]]:
    """Per outreach event: its type, outreach id, rank and trigger (requested) or reason
    (cancelled)."""
    decided = []
    for record in records:
        event = json.loads(record.value or b"{}")
        data = event["data"]
        why = (str(data["rank"]), data["trigger"]) if "rank" in data else (str(data["reason"]),)
        decided.append((event["type"], data["outreach_id"], *why))
    return sorted(decided)


def test_live_bursts_across_partitions_request_what_a_replay_does(
    kafka_bootstrap: str,
    make_topic: MakeTopic,
    topics: Topics,
    group_id: str,
    tmp_path: Path,
) -> None:
    """Live, the topics fill while the worker reads: a poll may hand out one partition's
    records while the client already holds another's earlier ones. Small batches over three
    partitions, published in bursts in event-time order, then the same topics replayed into
    an empty store: the same outreach requested and cancelled."""
    timeline = _timeline(seed=7)
    live_db = f"sqlite:///{tmp_path / 'live.db'}"
    replay_db = f"sqlite:///{tmp_path / 'replay.db'}"
    replay_topics = replace(topics, outreach=make_topic(3))
    for url in (live_db, replay_db):
        migrate(url)

    def run(url: str, into: Topics, group: str, publish_live: bool) -> list[Consumed]:
        env = {
            **base_env(kafka_bootstrap, url, into, group),
            "REENGAGE_BATCH_MAX_RECORDS": "7",
        }
        with running(["worker"], env, tmp_path / f"{group}.log") as worker:
            if publish_live:
                wait_for(lambda: "partitions assigned" in worker.output(), "the assignment")
                _publish_in_bursts(kafka_bootstrap, into, [(k, m) for _, k, m in timeline])
            wait_for(
                lambda: count_rows(url, "processed_events") == len(timeline), "every event applied"
            )
            unpublished = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            wait_for(lambda: query(url, unpublished)[0][0] == 0, "the outbox relayed")
            outreach = read_until(kafka_bootstrap, into.outreach, lambda r: False, timeout_s=3.0)
            assert worker.stop() == 0, worker.output()
        return outreach

    live = _decisions(run(live_db, topics, group_id, publish_live=True))
    replayed = _decisions(run(replay_db, replay_topics, f"{group_id}-replay", publish_live=False))
    assert any(kind.endswith("cancelled") for kind, *_ in live)  # the order mattered
    assert live == replayed
