"""The broker and client behave as the worker relies on: keyed, ordered, idempotent writes with
headers; explicit offset commits that a restarted consumer resumes from; and a test broker that
cannot outlive the process that started it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from dev.local_kafka import JarFetchError, MissingToolError, ensure_jars, find_java
from tests.fixtures.kafka import MakeTopic

pytestmark = pytest.mark.kafka

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORDS = 1000
FIRST_RUN = 600
KEYS = [f"candidate-{n}".encode() for n in range(17)]
# Liveness guards so a broken broker fails the test instead of hanging it.
MAX_EMPTY_POLLS = 60


def _headers(seq: int) -> list[tuple[str, bytes]]:
    # Binary header bytes (0x00, 0xff) catch any accidental text decoding on the way.
    return [("seq", str(seq).encode()), ("blob", bytes([0, 255, seq % 256])), ("empty", b"")]


def _produce(bootstrap: str, topic: str) -> dict[bytes, tuple[bytes, list[tuple[str, bytes]]]]:
    """value -> (key, headers) for every record acknowledged by the broker."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    sent: dict[bytes, tuple[bytes, list[tuple[str, bytes]]]] = {}
    futures = []
    try:
        for seq in range(RECORDS):
            key = KEYS[seq % len(KEYS)]
            value = f"{key.decode()}:{seq}".encode()
            sent[value] = (key, _headers(seq))
            futures.append(producer.send(topic, key=key, value=value, headers=_headers(seq)))
        producer.flush()
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close()
    return sent


def _consumer(bootstrap: str, topic: str, group: str) -> Any:
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


def _consume_and_commit(consumer: Any, *, limit: int | None) -> list[Any]:
    """Poll, 'process', then commit exactly what was processed: {tp: last offset + 1}.

    Stops after `limit` records, or (limit None) once every assigned partition is drained.
    """
    consumed: list[Any] = []
    empty_polls = 0
    while limit is None or len(consumed) < limit:
        remaining = 100 if limit is None else min(100, limit - len(consumed))
        batches = consumer.poll(timeout_ms=500, max_records=remaining)
        if batches:
            empty_polls = 0
            offsets = {}
            for tp, records in batches.items():
                consumed.extend(records)
                offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, None, -1)
            consumer.commit(offsets=offsets)
        else:
            empty_polls += 1
            assert empty_polls < MAX_EMPTY_POLLS, f"stalled after {len(consumed)} records"
            assignment = consumer.assignment()
            if limit is None and assignment:
                ends = consumer.end_offsets(list(assignment))
                if all(consumer.position(tp) >= ends[tp] for tp in assignment):
                    break
    return consumed


def test_committed_offsets_resume_exactly_where_processing_stopped(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str
) -> None:
    topic = make_topic(3)
    sent = _produce(kafka_bootstrap, topic)

    first = _consumer(kafka_bootstrap, topic, group_id)
    try:
        first_run = _consume_and_commit(first, limit=FIRST_RUN)
        partitions = {TopicPartition(topic, p) for p in range(3)}
        committed = {tp: first.committed(tp) for tp in partitions}
    finally:
        first.close()

    second = _consumer(kafka_bootstrap, topic, group_id)
    try:
        second_run = _consume_and_commit(second, limit=None)
    finally:
        second.close()

    assert len(first_run) == FIRST_RUN
    # The keys spread over all three partitions, so the commit covered several at once.
    assert {r.partition for r in first_run + second_run} == {0, 1, 2}

    # Resumed from the committed offset of each partition, not from the start or the end.
    last_of_first: dict[int, int] = {}
    for record in first_run:
        last_of_first[record.partition] = record.offset
    first_of_second: dict[int, int] = {}
    for record in second_run:
        first_of_second.setdefault(record.partition, record.offset)
    for partition, offset in first_of_second.items():
        if partition in last_of_first:
            assert offset == last_of_first[partition] + 1
            assert committed[TopicPartition(topic, partition)] == offset
        else:  # untouched by the first run: nothing committed, read from the start
            assert offset == 0
            assert committed[TopicPartition(topic, partition)] is None

    everything = first_run + second_run
    positions = [(r.partition, r.offset) for r in everything]
    assert len(positions) == len(set(positions)) == RECORDS
    assert sorted(r.value for r in everything) == sorted(sent)

    for record in everything:
        key, headers = sent[record.value]
        assert record.key == key
        assert list(record.headers) == headers

    sequences: dict[bytes, list[int]] = defaultdict(list)
    for record in everything:
        sequences[record.key].append(int(record.value.rsplit(b":", 1)[1]))
    for key, seqs in sequences.items():
        assert seqs == sorted(seqs), f"order broken for {key!r}"


_BROKER_CHILD = """
import sys, time
from dev.local_kafka import LocalKafka
broker = LocalKafka()
broker.start()
print(broker.pid, broker.data_dir, flush=True)
time.sleep(600)
"""


def _process_exists(pid: int) -> bool:
    """Running and not a zombie (a reparented JVM may never be reaped here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux")
def test_broker_dies_when_the_process_that_started_it_is_killed() -> None:
    try:
        find_java()
        ensure_jars()
    except (MissingToolError, JarFetchError) as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))

    parent = subprocess.Popen(
        [sys.executable, "-c", _BROKER_CHILD],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    jvm_pid: int | None = None
    data_dir: Path | None = None
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        if not line:
            parent.wait()
            error = parent.stderr.read() if parent.stderr else ""
            pytest.fail(f"child did not start a broker: {error}")
        pid_text, data_text = line.split(maxsplit=1)
        jvm_pid, data_dir = int(pid_text), Path(data_text.strip())
        assert _process_exists(jvm_pid)

        parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel can help
        parent.wait()

        for _ in range(300):  # bounded: up to about a minute for Kafka's shutdown hook
            if not _process_exists(jvm_pid):
                break
            time.sleep(0.2)
        assert not _process_exists(jvm_pid), "broker JVM outlived the process that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if jvm_pid is not None and _process_exists(jvm_pid):
            os.kill(jvm_pid, signal.SIGKILL)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
