"""`reengage import-candidates` interrupted: while it waits for the broker, and half-way
through a file (against the real broker). Either way it exits 0, as every command after a
signal, and says on standard error that it was interrupted and where."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.fixtures.kafka import FreezeBroker
from tests.integration.worker.harness import Process, read_until, running, wait_for


def _env(bootstrap: str, topic: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    return {
        **clean,
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REENGAGE_TOPIC_CANDIDATES": topic,
        # Far longer than the test may take: a wait deaf to signals would still be waiting.
        "REENGAGE_STARTUP_TIMEOUT_SECONDS": "3600",
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _logged(process: Process, event: str) -> bool:
    for line in process.output().splitlines():
        try:
            if json.loads(line).get("event") == event:
                return True
        except ValueError:
            continue
    return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_waiting_for_the_broker_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    export = tmp_path / "export.csv"
    export.write_text("candidate_id\nC-1\n", encoding="utf-8")
    env = _env(f"127.0.0.1:{_closed_port()}", "ats.candidates")
    args = ["import-candidates", str(export), "--tenant", "acme"]
    with running(args, env, tmp_path / "import.log") as process:
        wait_for(
            lambda: _logged(process, "start-up waiting for an answer"), "the wait for the broker"
        )
        process.signal(signum)
        assert process.wait(timeout=60) == 0, process.output()
        assert "interrupted before anything was published" in process.output()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("name,email\nAda,ada@example.com\n", "the header has no candidate_id column"),
        ("", "the file is empty"),
    ],
)
def test_a_file_it_cannot_import_is_refused_before_the_broker_is_asked(
    tmp_path: Path, content: str, problem: str
) -> None:
    """With the broker unreachable and an hour to wait for it: the file's problem comes
    first, alone, and nothing waits."""
    export = tmp_path / "export.csv"
    export.write_text(content, encoding="utf-8")
    env = _env(f"127.0.0.1:{_closed_port()}", "ats.candidates")
    args = ["import-candidates", str(export), "--tenant", "acme"]
    with running(args, env, tmp_path / "import.log") as process:
        assert process.wait(timeout=60) == 2, process.output()
        assert process.output().strip() == f"reengage: {export}: {problem}"


def _records_on(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        ends: dict[Any, int] = consumer.end_offsets(partitions)
        return sum(ends.values())
    finally:
        consumer.close()


def test_an_interrupted_import_publishes_the_rows_it_read_and_says_where_it_stopped(
    kafka_bootstrap: str, make_topic, tmp_path: Path
) -> None:
    topic = make_topic(1)
    # A pipe as the file: the test decides what has been read when the signal arrives.
    export = tmp_path / "export.csv"
    os.mkfifo(export)
    args = ["import-candidates", str(export), "--tenant", "acme"]
    with running(args, _env(kafka_bootstrap, topic), tmp_path / "import.log") as process:
        with export.open("w", encoding="utf-8") as pipe:
            pipe.write("candidate_id,do_not_contact\nC-1,no\nC-2,no\nC-3,perhaps\n")
            pipe.flush()
            # The bad row is reported as soon as it is read: lines 1-4 are in hand.
            wait_for(lambda: "line 4: do_not_contact" in process.output(), "line 4 read")
            process.signal(signal.SIGTERM)
            pipe.write("C-4,no\nC-5,no\n")
        assert process.wait(timeout=60) == 0, process.output()
        output = process.output()
    assert "published 2 ats.candidate.updated events" in output
    assert "reengage: interrupted: stopped after line 4" in output
    assert "--updated-at " in output
    assert _records_on(kafka_bootstrap, topic) == 2
    records = read_until(kafka_bootstrap, topic, lambda r: len(r) >= 2)
    ids = [json.loads(r.value or b"{}")["data"]["candidate_id"] for r in records]
    assert ids == ["C-1", "C-2"]


def test_a_signal_while_the_broker_hangs_exits_0_within_10_s_and_says_how_to_finish(
    kafka_bootstrap: str, make_topic, freeze_broker: FreezeBroker, tmp_path: Path
) -> None:
    """Before, the producer did not hear the signal: its send waited out 30 s and the import
    ended with an unexpected error (exit 1, a traceback) and no way to finish with the same
    event ids."""
    topic = make_topic(1)
    export = tmp_path / "export.csv"
    os.mkfifo(export)
    args = ["import-candidates", str(export), "--tenant", "acme"]
    with running(args, _env(kafka_bootstrap, topic), tmp_path / "import.log") as process:
        pipe = export.open("w", encoding="utf-8")
        pipe.write("candidate_id,do_not_contact\nC-1,no\nC-2,perhaps\n")
        pipe.flush()
        wait_for(lambda: "line 3: do_not_contact" in process.output(), "line 3 read")
        with freeze_broker():
            process.signal(signal.SIGTERM)
            signalled = time.monotonic()
            pipe.write("C-3,no\n")  # read after the signal: the loop then sees it
            pipe.close()
            code = process.wait(timeout=30)
            elapsed = time.monotonic() - signalled
        output = process.output()
    assert code == 0, output
    assert elapsed < 10, f"exited {elapsed:.1f} s after SIGTERM\n{output}"
    assert "reengage: interrupted (SendAbandonedError)" in output
    assert "to finish, run the import again with --updated-at " in output
