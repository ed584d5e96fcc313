"""Crashes, restarts, poison and signals: nothing lost, nothing requested twice."""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from pathlib import Path

import pytest
from kafka.serializer import Serializer
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.integration.worker.harness import (
    Consumed,
    Topics,
    base_env,
    count_rows,
    holding_at,
    http_port_of,
    metric,
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

pytestmark = pytest.mark.kafka


def _expected_ids(pool_seed: int, size: int, cap: int) -> set[str]:
    from worker.contracts.outreach import outreach_id

    pool = make_pool(seed=pool_seed, size=size)
    job = as_job(job_opened(max_outreach=cap))
    decisions = reference_match(job, T, effective_policy(job, Policy()), pool.as_rules_see_it(), [])
    return {outreach_id("acme", "J-1", d.candidate_id) for d in decisions}


def _ingest_pool(
    bootstrap: str, url: str, topics: Topics, env: dict[str, str], log: Path, size: int
) -> None:
    publish(bootstrap, topics.candidates, make_pool(seed=11, size=size).messages())
    with running(["worker"], env, log) as worker:
        wait_for(lambda: count_rows(url, "candidates") == size, f"{size} candidates stored")
        assert worker.stop() == 0, worker.output()


def _open_a_job_and_crash_at(
    point: str, bootstrap: str, url: str, topics: Topics, env: dict[str, str], tmp_path: Path
) -> None:
    """Store a pool of 150, then open a job (cap 10) with a worker that SIGKILLs itself at
    `point` while handling it."""
    _ingest_pool(bootstrap, url, topics, env, tmp_path / "w1.log", 150)
    opened = ats_event(job_opened(max_outreach=10), event_id="job-1", source="urn:ats:test")
    publish(bootstrap, topics.jobs, [opened])
    crashing = {**env, "REENGAGE_TEST_CRASH_AT": point}
    with running(["worker"], crashing, tmp_path / "w2.log") as worker:
        assert worker.wait(60) == -signal.SIGKILL, worker.output()


def _by_id(records: list[Consumed]) -> dict[str, list[bytes]]:
    copies: dict[str, list[bytes]] = defaultdict(list)
    for record in records:
        assert record.value is not None
        copies[json.loads(record.value)["id"]].append(record.value)
    return copies


def test_crash_between_database_commit_and_offset_commit(
    kafka_bootstrap: str, migrated: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    expected = _expected_ids(11, 150, cap=10)
    env = base_env(kafka_bootstrap, migrated, topics, group_id)
    _open_a_job_and_crash_at(
        "worker-after-db-commit", kafka_bootstrap, migrated, topics, env, tmp_path
    )
    # The job's effects are committed, its offset is not.
    assert count_rows(migrated, "outreach") == len(expected)

    with running(["worker"], env, tmp_path / "w3.log") as worker:
        port = http_port_of(worker)
        wait_for(
            lambda: metric(port, "reengage_events_total", outcome="duplicate") >= 1,
            "the redelivered job event to be seen as a duplicate",
        )
        outreach = read_until(
            kafka_bootstrap,
            topics.outreach,
            lambda r: len(_by_id(r)) >= len(expected),
            settle_s=1.0,
        )
        assert metric(port, "reengage_outreach_requested_total") == 0
        assert worker.stop() == 0, worker.output()

    copies = _by_id(outreach)
    assert set(copies) == expected
    assert all(len(set(bodies)) == 1 for bodies in copies.values())
    assert count_rows(migrated, "outreach") == len(expected)


def test_relay_crash_after_publish_republishes_identical_events(
    kafka_bootstrap: str, migrated: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    expected = _expected_ids(11, 150, cap=10)
    env = base_env(kafka_bootstrap, migrated, topics, group_id)
    _open_a_job_and_crash_at(
        "relay-after-publish", kafka_bootstrap, migrated, topics, env, tmp_path
    )
    first = _by_id(
        read_until(kafka_bootstrap, topics.outreach, lambda r: len(_by_id(r)) >= len(expected))
    )
    assert set(first) == expected  # published, then killed before the rows were marked

    with running(["worker"], env, tmp_path / "w3.log") as worker:
        again = read_until(
            kafka_bootstrap,
            topics.outreach,
            # Every id, not only those read so far: one poll may bring one partition's.
            lambda r: set(_by_id(r)) >= expected and all(len(v) == 2 for v in _by_id(r).values()),
            timeout_s=60,
        )
        assert worker.stop() == 0, worker.output()
    copies = _by_id(again)
    assert set(copies) == expected
    for bodies in copies.values():
        assert len(bodies) == 2 and bodies[0] == bodies[1]  # same id, byte-identical body


def test_poison_messages_are_dead_lettered_and_the_next_good_one_processed(
    kafka_bootstrap: str, sqlite_url: str, make_topic, group_id: str, tmp_path: Path
) -> None:
    from worker.store.versioning import migrate

    migrate(sqlite_url)
    big = {"max.message.bytes": str(4 * 1024 * 1024)}
    candidates = make_topic(1, configs=big)
    make_topic(1, name=candidates + ".dlq", configs=big)
    topics = Topics(
        jobs=make_topic(1), candidates=candidates, outreach=make_topic(1), status=make_topic(1)
    )
    good = make_pool(seed=3, size=1).messages()[0]
    wrong_types = json.loads(good.value)
    wrong_types["data"]["do_not_contact"] = "yes"
    missing = json.loads(good.value)
    del missing["data"]["updated_at"]
    poison = [
        (b"k1", b"not json at all {"),
        (b"k2", json.dumps(wrong_types).encode()),
        (b"k3", json.dumps(missing).encode()),
        (b"k4", b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'),
    ]
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=8 * 1024 * 1024)
    for key, value in poison:
        producer.send(candidates, key=key, value=value, headers=[("trace", b"t-" + key)])
    producer.send(candidates, key=good.key, value=good.value)
    producer.flush(30)
    producer.close()

    env = base_env(kafka_bootstrap, sqlite_url, topics, group_id)
    with running(["worker"], env, tmp_path / "w.log") as worker:
        wait_for(lambda: count_rows(sqlite_url, "candidates") == 1, "the good candidate stored")
        dead = read_until(kafka_bootstrap, candidates + ".dlq", lambda r: len(r) >= 4, settle_s=0.5)
        assert worker.stop() == 0, worker.output()

    assert [(d.key, d.value) for d in dead] == poison
    classes = []
    for letter, offset in zip(dead, range(4), strict=True):
        headers = dict(letter.headers)
        assert headers["trace"] == b"t-" + letter.key
        assert headers["dlq.original.topic"] == candidates.encode()
        assert headers["dlq.original.partition"] == b"0"
        assert headers["dlq.original.offset"] == str(offset).encode()
        assert headers["dlq.consumer.group"] == group_id.encode()
        assert headers["dlq.failed_at"]
        reason = headers["dlq.error.reason"].decode()
        assert 0 < len(reason) <= 1000 and "example.com" not in reason
        classes.append(headers["dlq.error.class"])
    assert classes == [b"not_json", b"bad_data", b"bad_data", b"too_large"]


class _NoKey(Serializer):  # type: ignore[misc]
    def serialize(self, topic: str, headers: list[tuple[str, bytes]], data: object) -> None:
        return None


def test_a_record_with_neither_key_nor_value_is_dead_lettered_not_a_crash_loop(
    kafka_bootstrap: str, sqlite_url: str, make_topic, group_id: str, tmp_path: Path
) -> None:
    """Kafka clients refuse to send a record with neither key nor value, its dead letter
    included: before, the worker exited 1 at it, and again at every restart."""
    from kafka import KafkaProducer

    from worker.store.versioning import migrate

    migrate(sqlite_url)
    topics = Topics(
        jobs=make_topic(1), candidates=make_topic(1), outreach=make_topic(1), status=make_topic(1)
    )
    # A Java client or kcat sends one as it is; kafka-python only through a key serializer
    # that turns the key it was given into none.
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, key_serializer=_NoKey())
    producer.send(topics.candidates, key="none", value=None, partition=0)
    good = make_pool(seed=3, size=1).messages()[0]
    producer.send(topics.candidates, key=good.key, value=good.value, partition=0)
    producer.flush(30)
    producer.close()

    env = base_env(kafka_bootstrap, sqlite_url, topics, group_id)
    with running(["worker"], env, tmp_path / "w.log") as worker:
        wait_for(lambda: count_rows(sqlite_url, "candidates") == 1, "the good candidate stored")
        (dead,) = read_until(
            kafka_bootstrap, topics.candidates + ".dlq", lambda r: len(r) >= 1, settle_s=0.5
        )
        assert worker.stop() == 0, worker.output()

    assert (dead.key, dead.value) == (None, b"")
    headers = dict(dead.headers)
    assert headers["dlq.original.null_value"] == b"true"
    assert headers["dlq.error.class"] == b"not_json"
    assert headers["dlq.original.offset"] == b"0"


def test_a_topic_mostly_dead_letters_halts_the_worker_when_asked_to(
    kafka_bootstrap: str, sqlite_url: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    """Off by default (EVENTS.md: processing continues with the next message); with
    REENGAGE_DLQ_MAX_RATIO set, a topic whose last N records were mostly dead letters stops
    the worker (exit 1), after those letters are safely on the DLQ."""
    from kafka import KafkaProducer

    from worker.store.versioning import migrate

    migrate(sqlite_url)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for n in range(30):
        producer.send(topics.candidates, key=b"k", value=f"garbage {n}".encode())
    producer.flush(30)
    producer.close()
    env = {
        **base_env(kafka_bootstrap, sqlite_url, topics, group_id),
        "REENGAGE_DLQ_MAX_RATIO": "0.5",
        "REENGAGE_DLQ_WINDOW": "20",
    }
    with running(["worker"], env, tmp_path / "w.log") as worker:
        assert worker.wait(60) == 1, worker.output()
        output = worker.output()
    assert f"of the last 20 records of {topics.candidates} were dead-lettered" in output
    dead = read_until(kafka_bootstrap, topics.candidates + ".dlq", lambda r: len(r) >= 20)
    assert len(dead) >= 20


def test_sigterm_mid_batch_exits_0_within_10_s_and_nothing_is_done_twice(
    kafka_bootstrap: str, migrated: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    size = 3000
    publish(kafka_bootstrap, topics.candidates, make_pool(seed=5, size=size).messages())
    env = {
        **base_env(kafka_bootstrap, migrated, topics, group_id),
        "REENGAGE_BATCH_MAX_RECORDS": "200",
    }
    # Held in its third batch, decoded and not yet applied, until the signal: a signal sent
    # after watching the database raced a fast machine to the end of the stream.
    holding = holding_at(env, "worker-before-apply", 3)
    with running(["worker"], holding, tmp_path / "w1.log") as worker:
        worker.wait_for_hold("worker-before-apply")
        in_hand = count_rows(migrated, "processed_events")
        worker.signal(signal.SIGTERM)
        assert worker.wait(10) == 0, worker.output()  # OPERATIONS.md: exit 0 within 10 s
    stored_before = count_rows(migrated, "processed_events")
    assert in_hand < stored_before < size  # the batch in hand was finished
    assert stored_before - in_hand <= 200  # and no more than that batch

    with running(["worker"], env, tmp_path / "w2.log") as worker:
        port = http_port_of(worker)
        wait_for(lambda: count_rows(migrated, "processed_events") == size, "every event processed")
        wait_for(
            lambda: (
                metric(port, "reengage_events_total", outcome="processed") == size - stored_before
            ),
            "metrics",
        )
        assert metric(port, "reengage_events_total", outcome="duplicate") == 0
        assert worker.stop() == 0, worker.output()
    assert count_rows(migrated, "candidates") == size


@pytest.mark.postgres
# P0001: an error of the statement's own; 23514: a constraint violation, which the worker
# first takes for a race with another consumer and retries a few times.
@pytest.mark.parametrize("sqlstate", ["P0001", "23514"])
def test_an_event_the_store_refuses_is_dead_lettered_alone(
    kafka_bootstrap: str,
    pg_database_url: str,
    topics: Topics,
    group_id: str,
    tmp_path: Path,
    sqlstate: str,
) -> None:
    from worker.store.versioning import migrate

    migrate(pg_database_url)
    pool = make_pool(seed=9, size=20)
    refused = pool.updates[5].candidate_id
    _refuse_candidate(pg_database_url, refused, sqlstate)
    messages = [
        ats_event(u, event_id=f"e-{u.candidate_id}", source="urn:ats:test") for u in pool.updates
    ]
    publish(kafka_bootstrap, topics.candidates, messages)
    env = base_env(kafka_bootstrap, pg_database_url, topics, group_id)
    with running(["worker"], env, tmp_path / "w.log") as worker:
        wait_for(lambda: count_rows(pg_database_url, "candidates") == 19, "the other 19 stored")
        dead = read_until(kafka_bootstrap, topics.candidates + ".dlq", lambda r: len(r) >= 1)
        assert worker.stop() == 0, worker.output()
    assert len(dead) == 1
    assert dead[0].value == messages[5].value
    headers = dict(dead[0].headers)
    assert headers["dlq.error.class"] == b"processing_failed"
    # The driver's exception class names the failure (ProgrammingError with psycopg 3).
    assert headers["dlq.error.reason"].endswith(b"Error while applying ats.candidate.updated")
    assert count_rows(pg_database_url, f"candidates WHERE candidate_id = '{refused}'") == 0


def _refuse_candidate(url: str, candidate_id: str, sqlstate: str) -> None:
    """Make PostgreSQL refuse to store one candidate, as it would a value it cannot hold.

    The contract now refuses at decoding what PostgreSQL text cannot hold (NUL), so a valid
    event is refused by a trigger instead: the statement fails on the server, like a real
    refusal, with the given SQLSTATE.
    """
    # spliced into DDL below
    assert candidate_id.isascii() and "'" not in candidate_id and sqlstate.isalnum()
    with create_engine(url, poolclass=NullPool).begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION refuse_candidate() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'this candidate is refused by the test' "
                f"USING ERRCODE = '{sqlstate}'; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER refuse_candidate BEFORE INSERT OR UPDATE ON candidates "
                f"FOR EACH ROW WHEN (NEW.candidate_id = '{candidate_id}') "
                "EXECUTE FUNCTION refuse_candidate()"
            )
        )
