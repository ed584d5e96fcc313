"""`reengage dlq replay` against the real broker: dead letters written as the worker writes
them (`to_outgoing`), replayed, and the original topic read back byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.fixtures.kafka import FreezeBroker, MakeTopic
from tests.integration.worker.harness import holding_at, running
from tests.unit.dlq.letters import FAILED_AT, OWN_HEADERS, job_opened, job_opened_without_title
from worker.dlq.policy import Policy
from worker.dlq.replay import replay
from worker.dlq.report import ReplayReport
from worker.kafka.dead_letters import DeadLetter, to_outgoing
from worker.kafka.producer import Producer
from worker.kafka.records import Record
from worker.runtime.shutdown import Shutdown
from worker.settings import Settings

pytestmark = pytest.mark.kafka

REPO_ROOT = Path(__file__).resolve().parents[3]
Message = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]

VALID_1, INVALID_2, VALID_3 = job_opened("J-1"), job_opened_without_title("J-2"), job_opened("J-3")


class Topics:
    def __init__(
        self, bootstrap: str, make_topic: MakeTopic, group_id: str, dlq_partitions: int = 1
    ) -> None:
        self.original = make_topic()
        self.dlq = make_topic(dlq_partitions, name=self.original + ".dlq")
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.settings = Settings(
            _env_file=None,
            kafka_bootstrap_servers=bootstrap,
            topic_jobs=self.original,
            consumer_group=group_id,
        )
        self._next_original_offset = 100

    def dead_letter(self, *messages: tuple[bytes, bytes]) -> None:
        """Dead-letter `messages` as the worker does: their original offsets count up."""
        letters = []
        for key, value in messages:
            failed = Record(self.original, 0, self._next_original_offset, key, value, OWN_HEADERS)
            self._next_original_offset += 1
            letter = DeadLetter(failed, "bad_data", "data.title: Field required")
            letters.append(to_outgoing(letter, self.group_id, FAILED_AT))
        producer = Producer(self.settings)
        try:
            producer.send_all(letters)
        finally:
            producer.close()

    def replay(
        self, policy: Policy = Policy.STOP_ON_ERROR, limit: int | None = None
    ) -> ReplayReport:
        return replay(self.settings, self.dlq, policy, limit, Shutdown())

    def original_messages(self) -> list[Message]:
        return [(k, v, h) for _, k, v, h in read_all(self.bootstrap, self.original)]


def read_all(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None, Any]]:
    """Everything on `topic` now, as (partition, key, value, headers), per partition in order."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records = []
        for _ in range(100):  # bounded: a broken broker fails the test rather than hangs it
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        else:
            pytest.fail(f"could not read {topic} to its end")
    finally:
        consumer.close()
    records.sort(key=lambda r: (r.partition, r.offset))
    return [(r.partition, r.key, r.value, list(r.headers)) for r in records]


def _expected(dlq: str, *replayed: tuple[int, tuple[bytes, bytes]]) -> list[Message]:
    """The original messages, with their own headers and where they were replayed from."""
    return [
        (key, value, [*OWN_HEADERS, ("dlq.replayed.from", f"{dlq}:0:{offset}".encode())])
        for offset, (key, value) in replayed
    ]


def _counts(report: ReplayReport) -> tuple[int, int, int, int, str]:
    return (report.replayed, report.reinserted_invalid, report.dropped, report.left, report.ending)


@pytest.fixture
def topics(kafka_bootstrap: str, make_topic: MakeTopic, group_id: str) -> Topics:
    return Topics(kafka_bootstrap, make_topic, group_id)


def test_dead_letters_go_back_byte_for_byte_in_order(topics: Topics) -> None:
    topics.dead_letter(VALID_1, VALID_3)

    assert _counts(topics.replay()) == (2, 0, 0, 0, "caught_up")

    assert topics.original_messages() == _expected(topics.dlq, (0, VALID_1), (1, VALID_3))


def test_stop_on_error_leaves_the_invalid_one_for_the_next_replay(topics: Topics) -> None:
    topics.dead_letter(VALID_1, INVALID_2, VALID_3)

    first = topics.replay()
    second = topics.replay()  # the cause is not fixed yet: stops at the same dead letter

    assert _counts(first) == (1, 0, 0, 2, "stopped")
    assert first.stopped_at is not None
    assert (first.stopped_at.record.offset, first.stopped_at.still_invalid.error_class) == (
        1,
        "bad_data",
    )
    assert _counts(second) == (0, 0, 0, 2, "stopped")
    assert second.stopped_at is not None and second.stopped_at.record.offset == 1
    assert topics.original_messages() == _expected(topics.dlq, (0, VALID_1))

    # The operator gives up on it: dropping it commits past it and replays the rest.
    third = topics.replay(Policy.DROP_INVALID)
    assert _counts(third) == (1, 0, 1, 0, "caught_up")
    assert topics.original_messages() == _expected(topics.dlq, (0, VALID_1), (2, VALID_3))


def test_reinsert_replays_the_invalid_ones_too_in_order(topics: Topics) -> None:
    topics.dead_letter(VALID_1, INVALID_2, VALID_3)

    assert _counts(topics.replay(Policy.REINSERT)) == (3, 1, 0, 0, "caught_up")
    assert topics.original_messages() == _expected(
        topics.dlq, (0, VALID_1), (1, INVALID_2), (2, VALID_3)
    )


def test_max_limits_a_replay_and_the_next_one_resumes_after_it(topics: Topics) -> None:
    letters = [job_opened(f"J-{n}") for n in range(5)]
    topics.dead_letter(*letters)

    first = topics.replay(limit=2)
    after_first = topics.original_messages()
    topics.dead_letter(VALID_1)  # a new dead letter arrives between replays
    second = topics.replay()
    third = topics.replay()

    assert _counts(first) == (2, 0, 0, 3, "max")
    assert after_first == _expected(topics.dlq, *enumerate(letters[:2]))
    assert _counts(second) == (4, 0, 0, 0, "caught_up")
    assert _counts(third) == (0, 0, 0, 0, "caught_up")
    assert topics.original_messages() == _expected(topics.dlq, *enumerate(letters), (5, VALID_1))


def test_a_replay_asked_to_stop_commits_nothing_it_did_not_replay(topics: Topics) -> None:
    topics.dead_letter(VALID_1, VALID_3)
    shutdown = Shutdown()
    shutdown.request()  # SIGTERM before the first batch

    interrupted = replay(topics.settings, topics.dlq, Policy.STOP_ON_ERROR, None, shutdown)

    assert _counts(interrupted) == (0, 0, 0, 2, "interrupted")
    assert topics.original_messages() == []
    assert _counts(topics.replay()) == (2, 0, 0, 0, "caught_up")


def test_every_partition_of_the_dead_letter_topic_is_replayed(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    topics = Topics(kafka_bootstrap, make_topic, group_id, dlq_partitions=3)
    letters = [job_opened(f"J-{n}") for n in range(12)]
    topics.dead_letter(*letters)
    dead = read_all(kafka_bootstrap, topics.dlq)
    assert len({partition for partition, *_ in dead}) > 1  # the keys spread the dead letters

    report = topics.replay()

    assert _counts(report) == (12, 0, 0, 0, "caught_up")
    replayed = topics.original_messages()
    assert sorted((k, v) for k, v, _ in replayed) == sorted(letters)
    # Per dead-letter partition, the order is kept.
    for partition in {p for p, *_ in dead}:
        sources = [
            int(dict(h)["dlq.replayed.from"].rsplit(b":", 1)[1])
            for _, _, h in replayed
            if dict(h)["dlq.replayed.from"].split(b":")[1] == str(partition).encode()
        ]
        assert sources == sorted(sources)
        assert len(sources) == sum(1 for p, *_ in dead if p == partition)


def _reengage(topics: Topics, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env = {
        **clean,
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": topics.bootstrap,
        "REENGAGE_TOPIC_JOBS": topics.original,
        "REENGAGE_CONSUMER_GROUP": topics.group_id,
    }
    return subprocess.run(
        [sys.executable, "-m", "worker.entry", "dlq", "replay", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_exits_3_naming_the_dead_letter_that_stopped_it(topics: Topics) -> None:
    topics.dead_letter(VALID_1, INVALID_2)

    stopped = _reengage(topics, "--topic", topics.dlq)
    dropped = _reengage(topics, "--topic", topics.dlq, "--policy", "drop-invalid", "--max", "5")

    assert stopped.returncode == 3, stopped.stderr
    assert stopped.stdout == (
        f"{topics.dlq}: replayed 1, dropped 0, 1 left; "
        "stopped at a dead letter that is still invalid\n"
    )
    last_line = stopped.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        f"reengage: {topics.dlq} partition 0 offset 1 is still invalid (bad_data: "
    )
    assert dropped.returncode == 0, dropped.stderr
    assert dropped.stdout == (
        f"{topics.dlq}: replayed 0, dropped 1, 0 left; "
        "caught up with the end offsets seen at start\n"
    )
    assert topics.original_messages() == _expected(topics.dlq, (0, VALID_1))
    logs = [json.loads(line) for line in dropped.stderr.splitlines()]
    (drop_log,) = [
        entry for entry in logs if entry["event"] == "dead letter still invalid, dropped"
    ]
    assert (drop_log["partition"], drop_log["offset"], drop_log["error_class"]) == (
        0,
        1,
        "bad_data",
    )
    # Values are personal data: no field of the message reaches the logs.
    assert "Senior Data Analyst" not in stopped.stderr + dropped.stderr


def test_the_command_exits_2_for_a_dead_letter_topic_that_does_not_exist(
    topics: Topics, kafka_admin: Any
) -> None:
    missing = topics.original + "-missing.dlq"
    result = _reengage(topics, "--topic", missing)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("does not exist")
    assert result.stdout == ""
    assert missing not in kafka_admin.list_topics()  # asking about it did not create it


# Batch 2: the sends wait for acknowledgements. Batch 1 (a replay of one batch): send()
# itself waits for the original topic's metadata, which the producer has not fetched yet.
@pytest.mark.parametrize(("held_batch", "letters_count"), [(2, 1_000), (1, 500)])
def test_sigterm_while_the_broker_hangs_exits_0_within_10_s_and_the_next_replay_finishes(
    topics: Topics, freeze_broker: FreezeBroker, tmp_path: Path, held_batch: int, letters_count: int
) -> None:
    """OPERATIONS.md's 10 s hold for `dlq replay` too: before, a send the hung broker did
    not acknowledge ran out its 30 s timeout and the command exited 1; and one waiting for
    the topic's metadata raised its timeout as an unexpected error (exit 1)."""
    letters = [job_opened(f"J-{n}") for n in range(letters_count)]
    for start in range(0, len(letters), 500):
        topics.dead_letter(*letters[start : start + 500])
    env = {
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": topics.bootstrap,
        "REENGAGE_TOPIC_JOBS": topics.original,
        "REENGAGE_CONSUMER_GROUP": topics.group_id,
    }
    args = ["dlq", "replay", "--topic", topics.dlq]
    # The second batch is held just before it is sent, until the signal: its sends then go
    # to the hung broker (watching the topic instead, a fast machine replayed all first).
    holding = holding_at(env, "dlq-replay-before-send", held_batch)
    with running(args, holding, tmp_path / "first.log") as process:
        process.wait_for_hold("dlq-replay-before-send")
        sent_before = _end_offset(topics.bootstrap, topics.original)
        assert sent_before == (0 if held_batch == 1 else 500)  # the batches before it went
        with freeze_broker():
            code, elapsed = process.timed_sigterm()
        output = process.output()
    assert code == 0, output
    assert elapsed < 10, f"exited {elapsed:.1f} s after SIGTERM\n{output}"
    assert "shutdown while the broker had not acknowledged the batch" in output

    finished = _reengage(topics, "--topic", topics.dlq)
    assert finished.returncode == 0, finished.stderr
    replayed = {key for key, _, _ in topics.original_messages()}
    assert replayed == {key for key, _ in letters}  # each at least once; the worker dedupes


def _end_offset(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partition = TopicPartition(topic, 0)
        return int(consumer.end_offsets([partition])[partition])
    finally:
        consumer.close()
