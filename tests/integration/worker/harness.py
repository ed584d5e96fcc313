"""Running the real `reengage` processes against the session's broker and a test database,
and reading what they publish. Bounded waits only: nothing here can hang a test run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from worker.contracts.encode import OutgoingMessage


@dataclass(frozen=True)
class Topics:
    jobs: str
    candidates: str
    outreach: str
    status: str

    def env(self) -> dict[str, str]:
        return {
            "REENGAGE_TOPIC_JOBS": self.jobs,
            "REENGAGE_TOPIC_CANDIDATES": self.candidates,
            "REENGAGE_TOPIC_OUTREACH": self.outreach,
            "REENGAGE_TOPIC_STATUS": self.status,
        }


def base_env(bootstrap: str, database_url: str, topics: Topics, group: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    return {
        **clean,
        **topics.env(),
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REENGAGE_DATABASE_URL": database_url,
        "REENGAGE_CONSUMER_GROUP": group,
        "REENGAGE_HTTP_PORT": "0",
        "REENGAGE_LOG_LEVEL": "INFO",
        "REENGAGE_STARTUP_TIMEOUT_SECONDS": "30",
        "REENGAGE_RELAY_SWEEP_SECONDS": "0.2",
        # A killed member's partitions move on after 6 s (the broker's minimum), not 45 s.
        "REENGAGE_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }


def holding_at(env: dict[str, str], point: str, visit: int) -> dict[str, str]:
    """`env`, with the process held at `point`'s `visit`-th visit until it is told to stop
    (worker/runtime/faults.py): a signal then lands mid-batch on any machine."""
    return {**env, "REENGAGE_TEST_HOLD_AT": f"{point}:{visit}"}


class Process:
    """A `reengage` subprocess whose output goes to a file (read on failure)."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "worker.entry", *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout: float = 15.0) -> int:
        self.signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(timeout=10)

    def timed_sigterm(self, timeout_s: float = 30.0) -> tuple[int, float]:
        """SIGTERM, then (exit code, seconds until the exit)."""
        self.signal(signal.SIGTERM)
        started = time.monotonic()
        code = self.wait(timeout_s)
        return code, time.monotonic() - started

    def wait_for_hold(self, point: str) -> None:
        """Until the process says it is held at `point` (see `holding_at`)."""
        wait_for(lambda: f"test hold: at {point}" in self.output(), f"the hold at {point}")

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=10)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.kill()
        self._log.close()


@contextmanager
def running(args: list[str], env: dict[str, str], log_path: Path) -> Iterator[Process]:
    process = Process(args, env, log_path)
    try:
        yield process
    finally:
        process.close()


def publish(
    bootstrap: str,
    topic: str,
    messages: Iterable[OutgoingMessage | tuple[bytes | None, bytes]],
    partition: int | None = None,
) -> None:
    """Send and wait for every acknowledgement; to `partition` if given, else by key."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        futures = []
        for message in messages:
            key, value = (
                (message.key, message.value) if isinstance(message, OutgoingMessage) else message
            )
            futures.append(producer.send(topic, key=key, value=value, partition=partition))
        producer.flush(30)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close()


@dataclass(frozen=True)
class Consumed:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[Consumed]], bool],
    timeout_s: float = 60.0,
    settle_s: float = 0.0,
) -> list[Consumed]:
    """Everything on `topic` from the beginning, read until `done(records)` holds (then for
    `settle_s` more, to catch anything extra) or `timeout_s` passes."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        deadline = time.monotonic() + timeout_s
        partitions: set[int] = set()
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic) or set()
            if not partitions:
                time.sleep(0.2)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []  # the topic never appeared: nothing was ever written to it
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Consumed] = []
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch: dict[Any, list[Any]] = consumer.poll(timeout_ms=200)
            for part in batch.values():
                records.extend(
                    Consumed(r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
                    for r in part
                )
            if settle_until is None and done(records):
                settle_until = time.monotonic() + settle_s
            if settle_until is not None and time.monotonic() >= settle_until:
                break
        return records
    finally:
        consumer.close()


def http_port_of(process: Process, timeout_s: float = 30.0) -> int:
    """The port the process's HTTP server bound (REENGAGE_HTTP_PORT=0), from its start log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in process.output().splitlines():
            if '"http_port"' in line:
                port = json.loads(line).get("http_port")
                if isinstance(port, int):
                    return port
        time.sleep(0.1)
    raise AssertionError("the process never logged its HTTP port:\n" + process.output())


def metric(port: int, name: str, **labels: str) -> float:
    """One sample from /metrics (0 when absent)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    total = 0.0
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def count_rows(url: str, table: str) -> int:
    return int(query(url, f"SELECT count(*) FROM {table}")[0][0])


def query(url: str, sql: str) -> list[Any]:
    """The rows of one read, on an engine of its own (the worker's tables, from outside)."""
    from sqlalchemy import text

    from worker.store.engine import create_store_engine

    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).all())
    finally:
        engine.dispose()
