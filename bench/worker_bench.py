"""The worker runtime against the same broker's raw kafka-python rates, same run.

Starts its own Kafka broker and throwaway PostgreSQL (plus a temporary SQLite file), then:

1. Ingest: candidate updates applied end to end (poll, decode, one transaction per batch,
   offsets committed) by the worker's own `IngestLoop`, on PostgreSQL and on SQLite, against a
   plain kafka-python consumer group reading (and committing) the same messages.
   Target: at least half the raw rate.
2. Latency: a `reengage worker` process (relay in-process); from publishing `ats.job.opened`
   to the last of its N `reengage.outreach.requested` events being readable on the outreach
   topic, for N = 10, 100, 1000. Target: p99 under 500 ms at 100 matches.
3. Relay: `OutboxRelay.publish_pending()` draining outbox rows (real outreach payloads from
   step 2) against an idempotent kafka-python producer sending the same messages.
   Target: at least half the raw rate.

Reports rates and ratios; exits non-zero only when the worker did something wrong (lost or
duplicated work), never on a missed target.

    .venv/bin/python -m bench.worker_bench [--profile] [--cold-statistics]

bench/README.md explains every number and records measured results.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import platform
import pstats
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from sqlalchemy import select

from bench.support import (
    LatencyJob,
    Topics,
    all_committed,
    as_messages,
    committed_offsets,
    create_database,
    create_topics,
    end_offsets,
    ingest_updates,
    job_message,
    latency_pool,
    median,
    percentile,
    settings_for,
    stored_candidates,
    table,
    verdict,
)
from dev.local_kafka import LocalKafka
from dev.local_postgres import running as running_postgres
from worker.commands.worker import ingest_loop
from worker.contracts.encode import OutgoingMessage
from worker.kafka.config import consumer_options, producer_options
from worker.kafka.consumer import BatchConsumer
from worker.kafka.producer import Outgoing, Producer
from worker.kafka.records import Record, next_offsets
from worker.logs import configure_logging
from worker.outbox.relay import OutboxRelay
from worker.outbox.writer import OutboxMessage, append
from worker.runtime.heap import tune_collector
from worker.runtime.shutdown import Shutdown
from worker.settings import Settings
from worker.store.engine import create_store_engine
from worker.store.schema import OutboxRow
from worker.store.versioning import migrate

INGEST_EVENTS = 20_000
# Raw baselines: one before the first worker run and two after each (a warm-up round before
# them is not counted); the median is what the worker is compared with.
RAW_AFTER_EACH = 2
LATENCY_RUNS = {10: 40, 100: 40, 1000: 20}  # jobs per match count
RELAY_MESSAGES = 20_000
INGEST_TARGET = 0.5
RELAY_TARGET = 0.5
LATENCY_TARGET_MS = 500.0
TIMEOUT_S = 240.0
TENANT = "bench"


class BenchError(RuntimeError):
    """The worker lost, duplicated or never finished work: the numbers would mean nothing."""


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


# --- helpers --------------------------------------------------------------------------------


def publish(bootstrap: str, topic: str, messages: Sequence[OutgoingMessage]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    try:
        futures = [producer.send(topic, key=m.key, value=m.value) for m in messages]
        producer.flush(120)
        for future in futures:
            future.get(timeout=120)
    finally:
        producer.close()


def remaining_by_partition(ends: Mapping[TopicPartition, int]) -> dict[tuple[str, int], int]:
    return {(tp.topic, tp.partition): end for tp, end in ends.items() if end > 0}


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


# --- 1. ingest ------------------------------------------------------------------------------


class _MeasuredConsumer(BatchConsumer):
    """The worker's consumer, noting when the first records arrived and when the commit that
    reached every end offset returned (then asking the loop to stop)."""

    def __init__(
        self,
        settings: Settings,
        ends: Mapping[TopicPartition, int],
        on_done: Callable[[], None],
    ) -> None:
        super().__init__(
            settings,
            settings.group_for("worker"),
            [settings.topic_jobs, settings.topic_candidates, settings.topic_status],
            max_records=settings.batch_max_records,
        )
        self._remaining = remaining_by_partition(ends)
        self._on_done = on_done
        self.first_records_at: float | None = None
        self.finished_at: float | None = None

    def poll(self, timeout_s: float) -> list[Record]:
        records = super().poll(timeout_s)
        if records and self.first_records_at is None:
            self.first_records_at = time.perf_counter()
        return records

    def commit(self, records: Sequence[Record]) -> None:
        super().commit(records)
        for position, offset in next_offsets(records).items():
            if self._remaining.get(position, offset + 1) <= offset:
                del self._remaining[position]
        if not self._remaining and self.finished_at is None:
            self.finished_at = time.perf_counter()
            self._on_done()


def worker_ingest(settings: Settings, ends: Mapping[TopicPartition, int], expected: int) -> Rate:
    """The wiring of `reengage worker` (worker/commands/worker.py), minus the HTTP server."""
    engine = create_store_engine(settings.database)
    shutdown = Shutdown()
    producer = Producer(settings)
    consumer = _MeasuredConsumer(settings, ends, on_done=shutdown.request)
    relay = OutboxRelay(engine, producer, sweep_interval_s=settings.relay_sweep_seconds)
    relay_thread = relay.start_in_thread(shutdown)
    loop = ingest_loop(settings, engine, consumer, producer, shutdown, after_commit=relay.wake)
    tune_collector()
    watchdog = threading.Timer(TIMEOUT_S, shutdown.request)
    watchdog.start()
    try:
        loop.run()
    finally:
        watchdog.cancel()
        shutdown.request()
        consumer.close()
        relay.wake()
        relay_thread.join(timeout=5)
        producer.close()
    try:
        if consumer.first_records_at is None or consumer.finished_at is None:
            raise BenchError(f"ingest into {settings.database.get_backend_name()} timed out")
        committed = committed_offsets(settings.kafka_bootstrap_servers, consumer.group_id)
        if not all_committed(committed, ends):
            raise BenchError("the worker's committed offsets do not reach the end offsets")
        stored = stored_candidates(engine, TENANT)
        if stored != expected:
            raise BenchError(f"{stored} candidates stored, expected {expected}")
    finally:
        engine.dispose()
    return Rate(expected, consumer.finished_at - consumer.first_records_at)


def raw_consume(settings: Settings, ends: Mapping[TopicPartition, int]) -> Rate:
    """A kafka-python group member with the worker's client options: poll, commit, nothing
    else. Timed the same way: first records in hand to the last offset committed."""
    options = consumer_options(settings, settings.group_for("raw"))
    options["max_poll_records"] = settings.batch_max_records
    consumer = KafkaConsumer(**options)
    consumer.subscribe([settings.topic_jobs, settings.topic_candidates, settings.topic_status])
    remaining = remaining_by_partition(ends)
    count = 0
    first: float | None = None
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while remaining:
            if time.monotonic() > deadline:
                raise BenchError("raw consumption timed out")
            batch: dict[TopicPartition, list[Any]] = consumer.poll(timeout_ms=500)
            if not batch:
                continue
            if first is None:
                first = time.perf_counter()
            offsets = {
                tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                for tp, records in batch.items()
            }
            consumer.commit(offsets=offsets)
            for tp, records in batch.items():
                count += len(records)
                if remaining.get((tp.topic, tp.partition), -1) <= records[-1].offset + 1:
                    remaining.pop((tp.topic, tp.partition), None)
        finished = time.perf_counter()
    finally:
        consumer.close(autocommit=False)
    assert first is not None
    return Rate(count, finished - first)


@dataclass(frozen=True)
class IngestResult:
    raw: list[Rate]
    worker: dict[str, Rate]

    @property
    def raw_rate(self) -> float:
        return median([r.per_second for r in self.raw])


def run_ingest(bootstrap: str, databases: Mapping[str, str], *, profile: bool) -> IngestResult:
    topics = Topics.named("ingest")
    create_topics(bootstrap, topics.partitions())
    updates = ingest_updates(TENANT, INGEST_EVENTS, seed=1)
    publish(bootstrap, topics.candidates, as_messages(updates, "ingest"))
    ends = end_offsets(bootstrap, topics.consumed)
    if sum(ends.values()) != INGEST_EVENTS:
        raise BenchError(f"published {sum(ends.values())} events, expected {INGEST_EVENTS}")
    any_url = next(iter(databases.values()))

    def raw(round_: int) -> Rate:
        rate = raw_consume(settings_for(bootstrap, any_url, topics, f"raw-{round_}"), ends)
        if rate.count != INGEST_EVENTS:
            raise BenchError(f"raw consumer read {rate.count}, expected {INGEST_EVENTS}")
        return rate

    rounds = iter(range(1000))
    raw(next(rounds))  # warm-up: creates the offsets topic, warms the broker; not counted
    raws = [raw(next(rounds))]
    worker: dict[str, Rate] = {}
    for name, url in databases.items():
        print(f"  ingest: worker on {name} ...", flush=True)
        settings = settings_for(bootstrap, url, topics, f"worker-{name}")
        with profiled(profile, f"worker ingest on {name}"):
            worker[name] = worker_ingest(settings, ends, INGEST_EVENTS)
        raws += [raw(next(rounds)) for _ in range(RAW_AFTER_EACH)]
    return IngestResult(raws, worker)


# --- 2. latency -----------------------------------------------------------------------------


class OutreachReader:
    """Reads the outreach topic from its current end, counting distinct outreach per job."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
        )
        partitions = [
            TopicPartition(topic, p)
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._consumer.assign(partitions)
        self._consumer.seek_to_end(*partitions)
        for tp in partitions:
            self._consumer.position(tp)  # resolve now: later records must not be skipped
        self.by_job: dict[str, set[str]] = defaultdict(set)
        self.events = 0

    def wait_for(self, job_id: str, count: int, timeout_s: float = 60.0) -> float:
        """perf_counter() when the poll that brought the job's `count`-th outreach returned."""
        deadline = time.monotonic() + timeout_s
        received = time.perf_counter()
        while len(self.by_job[job_id]) < count:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{job_id}: {len(self.by_job[job_id])} of {count} outreach after {timeout_s} s"
                )
            received = self.read(50)
        return received

    def read(self, timeout_ms: int) -> float:
        """One poll; returns when it returned (before the records were parsed)."""
        batch: dict[TopicPartition, list[Any]] = self._consumer.poll(timeout_ms=timeout_ms)
        received = time.perf_counter()
        for records in batch.values():
            for record in records:
                event = json.loads(record.value)
                if event["type"] != "reengage.outreach.requested":
                    raise BenchError(f"unexpected {event['type']} on the outreach topic")
                self.by_job[event["data"]["job"]["job_id"]].add(event["id"])
                self.events += 1
        return received

    def close(self) -> None:
        self._consumer.close()


def worker_env(bootstrap: str, database_url: str, topics: Topics, group: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    return {
        **clean,
        **topics.env(),
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REENGAGE_DATABASE_URL": database_url,
        "REENGAGE_CONSUMER_GROUP": group,
        "REENGAGE_HTTP_PORT": "0",
        "REENGAGE_LOG_LEVEL": "INFO",
    }


def interleaved(jobs: Sequence[LatencyJob]) -> list[LatencyJob]:
    """10, 100, 1000, 10, 100, ...: drift on a shared machine spreads over every size."""
    by_size: dict[int, list[LatencyJob]] = defaultdict(list)
    for job in jobs:
        by_size[job.matches].append(job)
    order: list[LatencyJob] = []
    for round_ in range(max(len(v) for v in by_size.values())):
        order.extend(v[round_] for _, v in sorted(by_size.items()) if round_ < len(v))
    return order


def steady_statistics(server_url: str, database_url: str) -> None:
    """Planner statistics that keep up with the tables, as on a long-running database: ANALYZE
    the freshly loaded pool now, and let autovacuum re-analyze every second (not every
    minute) as outreach accumulates during the run. Without current statistics PostgreSQL
    plans the matcher's cooldown check as a nested loop over the tenant's recent outreach,
    and a 1,000-match job takes seconds instead of a fraction of one (see bench/README.md)."""
    server = create_store_engine(server_url, isolation_level="AUTOCOMMIT")
    database = create_store_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql("ALTER SYSTEM SET autovacuum_naptime = '1s'")
            connection.exec_driver_sql("SELECT pg_reload_conf()")
        with database.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        server.dispose()
        database.dispose()


def run_latency(
    bootstrap: str, database_url: str, workdir: Path, *, server_url: str | None
) -> dict[int, list[float]]:
    """With `server_url`, in the steady state (current planner statistics); without, cold:
    the jobs arrive right after the bulk load, before autovacuum has analyzed anything."""
    topics = Topics.named("latency")
    create_topics(bootstrap, topics.partitions())
    updates, jobs = latency_pool(TENANT, LATENCY_RUNS, seed=2)
    publish(bootstrap, topics.candidates, as_messages(updates, "latency"))
    ends = end_offsets(bootstrap, [topics.candidates])
    migrate(database_url)
    group = "latency-worker"
    log_path = workdir / "latency-worker.log"
    samples: dict[int, list[float]] = defaultdict(list)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker.entry", "worker"],
            env=worker_env(bootstrap, database_url, topics, group),
            cwd=workdir,  # no stray .env file
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            print(f"  latency: worker ingesting {len(updates):,} candidates ...", flush=True)
            wait_until(
                lambda: (
                    process.poll() is None
                    and all_committed(committed_offsets(bootstrap, group), ends)
                ),
                "the worker to ingest the latency pool",
            )
            if process.poll() is not None:
                raise BenchError("the worker exited:\n" + log_path.read_text()[-3000:])
            if server_url is not None:
                steady_statistics(server_url, database_url)
            samples = measure_latency(bootstrap, topics, jobs)
            process.send_signal(signal.SIGTERM)
            if process.wait(timeout=15) != 0:
                raise BenchError("the worker did not exit 0:\n" + log_path.read_text()[-3000:])
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return samples


def measure_latency(
    bootstrap: str, topics: Topics, jobs: Sequence[LatencyJob]
) -> dict[int, list[float]]:
    reader = OutreachReader(bootstrap, topics.outreach)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    samples: dict[int, list[float]] = defaultdict(list)
    print(f"  latency: {len(jobs)} jobs ...", flush=True)
    try:
        for job in interleaved(jobs):
            message = job_message(job)
            published = time.perf_counter()
            producer.send(topics.jobs, key=message.key, value=message.value).get(timeout=30)
            last_seen = reader.wait_for(job.job_id, job.matches)
            samples[job.matches].append(last_seen - published)
            time.sleep(0.1)  # jobs arrive one at a time, not as a burst
        reader.read(1500)  # anything extra would show up now
        wrong = {
            job.job_id: len(reader.by_job[job.job_id])
            for job in jobs
            if len(reader.by_job[job.job_id]) != job.matches
        }
        expected_total = sum(job.matches for job in jobs)
        if wrong or reader.events != expected_total:
            raise BenchError(
                f"outreach per job differs from the pool ({wrong}), "
                f"{reader.events} events for {expected_total} outreach"
            )
    finally:
        producer.close()
        reader.close()
    return samples


# --- 3. relay -------------------------------------------------------------------------------


def outbox_payloads(database_url: str, limit: int) -> list[OutboxMessage]:
    """Real outreach rows (as the worker wrote them) to publish again elsewhere."""
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(OutboxRow.key, OutboxRow.headers, OutboxRow.payload)
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
    finally:
        engine.dispose()
    return [OutboxMessage(topic="", key=r.key, payload=r.payload, headers=r.headers) for r in rows]


def fill_outbox(database_url: str, topic: str, messages: Sequence[OutboxMessage]) -> None:
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            for start in range(0, len(messages), 1000):
                append(
                    connection,
                    [
                        OutboxMessage(topic, m.key, m.payload, m.headers)
                        for m in messages[start : start + 1000]
                    ],
                    datetime.now(UTC),
                )
    finally:
        engine.dispose()


def as_outgoing(topic: str, messages: Sequence[OutboxMessage]) -> list[Outgoing]:
    """Exactly what the relay sends for these rows."""
    return [
        Outgoing(
            topic=topic,
            key=m.key.encode(),
            value=m.payload.encode(),
            headers=tuple((k, v.encode()) for k, v in sorted(m.headers.items())),
        )
        for m in messages
    ]


def raw_produce(settings: Settings, messages: Sequence[Outgoing]) -> Rate:
    producer = KafkaProducer(**producer_options(settings))
    try:
        started = time.perf_counter()
        futures = [
            producer.send(m.topic, key=m.key, value=m.value, headers=list(m.headers))
            for m in messages
        ]
        producer.flush(120)
        for future in futures:
            future.get(timeout=120)
        finished = time.perf_counter()
    finally:
        producer.close()
    return Rate(len(messages), finished - started)


def relay_publish(settings: Settings) -> Rate:
    engine = create_store_engine(settings.database)
    producer = Producer(settings)
    try:
        relay = OutboxRelay(engine, producer)
        started = time.perf_counter()
        published = relay.publish_pending()
        finished = time.perf_counter()
    finally:
        producer.close()
        engine.dispose()
    return Rate(published, finished - started)


@dataclass(frozen=True)
class RelayResult:
    message_bytes: float
    raw: list[Rate]
    relay: dict[str, Rate]

    @property
    def raw_rate(self) -> float:
        return median([r.per_second for r in self.raw])


def run_relay(bootstrap: str, source_url: str, databases: Mapping[str, str]) -> RelayResult:
    messages = outbox_payloads(source_url, RELAY_MESSAGES)
    if len(messages) != RELAY_MESSAGES:
        raise BenchError(f"only {len(messages)} outbox rows to relay, wanted {RELAY_MESSAGES}")
    topic_of = {name: f"relay-{name}" for name in databases}
    raw_topics = [f"relay-raw-{n}" for n in range(2 + RAW_AFTER_EACH * len(databases))]
    create_topics(bootstrap, {t: 3 for t in [*topic_of.values(), *raw_topics]})
    for name, url in databases.items():
        fill_outbox(url, topic_of[name], messages)
    any_url = next(iter(databases.values()))
    topics = Topics.named("relay")

    rounds = iter(raw_topics)

    def raw() -> Rate:
        settings = settings_for(bootstrap, any_url, topics, "unused")
        return raw_produce(settings, as_outgoing(next(rounds), messages))

    raw()  # warm-up, not counted
    raws = [raw()]
    relay: dict[str, Rate] = {}
    for name, url in databases.items():
        print(f"  relay: {name} ...", flush=True)
        rate = relay_publish(settings_for(bootstrap, url, topics, "unused"))
        on_topic = sum(end_offsets(bootstrap, [topic_of[name]]).values())
        if rate.count != RELAY_MESSAGES or on_topic != RELAY_MESSAGES:
            raise BenchError(f"relay published {rate.count}, topic holds {on_topic}")
        relay[name] = rate
        raws += [raw() for _ in range(RAW_AFTER_EACH)]
    size = sum(len(m.payload) for m in messages) / len(messages)
    return RelayResult(size, raws, relay)


# --- report ---------------------------------------------------------------------------------


def report(
    ingest: IngestResult,
    latency: Mapping[int, list[float]],
    relay: RelayResult,
    seconds: float,
    *,
    cold: bool,
) -> str:
    raw_in = ingest.raw_rate
    ingest_rows: list[list[Any]] = [
        [
            "raw kafka-python consume (median of "
            + ", ".join(f"{r.per_second:,.0f}" for r in ingest.raw)
            + ")",
            f"{raw_in:,.0f}",
            "1.00",
            "",
        ]
    ]
    targets: list[tuple[str, bool]] = []
    for name, rate in ingest.worker.items():
        ratio = rate.per_second / raw_in
        targets.append((f"ingest on {name} >= {INGEST_TARGET} x raw", ratio >= INGEST_TARGET))
        ingest_rows.append(
            [
                f"worker ingest, {name}",
                f"{rate.per_second:,.0f}",
                f"{ratio:.2f}",
                verdict(ratio >= INGEST_TARGET),
            ]
        )
    latency_rows: list[list[Any]] = []
    for matches, values in sorted(latency.items()):
        ms = [v * 1000 for v in values]
        p99 = percentile(ms, 99)
        target = ""
        if matches == 100:
            targets.append(
                (f"p99 at 100 matches < {LATENCY_TARGET_MS:.0f} ms", p99 < LATENCY_TARGET_MS)
            )
            target = verdict(p99 < LATENCY_TARGET_MS)
        latency_rows.append(
            [
                matches,
                len(ms),
                f"{percentile(ms, 50):,.0f}",
                f"{p99:,.0f}",
                f"{max(ms):,.0f}",
                target,
            ]
        )
    raw_out = relay.raw_rate
    relay_rows: list[list[Any]] = [
        [
            "raw idempotent produce (median of "
            + ", ".join(f"{r.per_second:,.0f}" for r in relay.raw)
            + ")",
            f"{raw_out:,.0f}",
            "1.00",
            "",
        ]
    ]
    for name, rate in relay.relay.items():
        ratio = rate.per_second / raw_out
        targets.append((f"relay on {name} >= {RELAY_TARGET} x raw", ratio >= RELAY_TARGET))
        relay_rows.append(
            [
                f"outbox relay, {name}",
                f"{rate.per_second:,.0f}",
                f"{ratio:.2f}",
                verdict(ratio >= RELAY_TARGET),
            ]
        )
    parts = [
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}; total {seconds:.0f} s",
        "",
        f"Ingest: {INGEST_EVENTS:,} ats.candidate.updated, 3 partitions, batches of 500, "
        "end to end with offsets committed (events/s)",
        table(["", "events/s", "ratio", "target"], ingest_rows),
        "",
        "Latency: ats.job.opened published -> last outreach.requested readable on the topic "
        "(`reengage worker`, PostgreSQL, relay in-process; ms, p99 by nearest rank; "
        + ("COLD planner statistics" if cold else "current planner statistics")
        + ")",
        table(["matches", "jobs", "p50", "p99", "max", "target"], latency_rows),
        "",
        f"Relay: {RELAY_MESSAGES:,} outbox rows (outreach.requested, "
        f"{relay.message_bytes:,.0f} bytes on average), acks=all, idempotent (messages/s)",
        table(["", "messages/s", "ratio", "target"], relay_rows),
        "",
        "Targets: " + "; ".join(f"{what}: {verdict(met)}" for what, met in targets),
    ]
    return "\n".join(parts)


@contextmanager
def profiled(enabled: bool, what: str) -> Iterator[None]:
    """With --profile: cProfile the block and print where the worker's own code spends it."""
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        print(f"\n--- cProfile: {what} (cumulative, worker/ code only)", flush=True)
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(r"/worker/", 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the worker ingest under cProfile and print where its time goes "
        "(the ingest rates are then profiled rates, slower than real)",
    )
    parser.add_argument(
        "--cold-statistics",
        action="store_true",
        help="measure latency right after the bulk load, before PostgreSQL has planner "
        "statistics (the first minutes of a new deployment), instead of the steady state",
    )
    args = parser.parse_args()
    configure_logging(level="WARNING", stream=sys.stderr)
    # kafka-python warns at every group join that metadata is not there yet: noise here.
    logging.getLogger("kafka").setLevel(logging.ERROR)
    started = time.monotonic()
    print("starting Kafka and PostgreSQL ...", flush=True)
    with (
        LocalKafka() as kafka,
        running_postgres() as postgres,
        tempfile.TemporaryDirectory(prefix="reengage-bench-") as tmp,
    ):
        workdir = Path(tmp)
        bootstrap = kafka.bootstrap_servers
        databases = {
            "PostgreSQL": create_database(postgres.url, "ingest"),
            "SQLite": f"sqlite:///{workdir / 'bench.db'}",
        }
        for url in databases.values():
            migrate(url)
        latency_url = create_database(postgres.url, "latency")
        print("1/3 ingest", flush=True)
        ingest = run_ingest(bootstrap, databases, profile=args.profile)
        print("2/3 latency", flush=True)
        latency = run_latency(
            bootstrap,
            latency_url,
            workdir,
            server_url=None if args.cold_statistics else postgres.url,
        )
        print("3/3 relay", flush=True)
        relay = run_relay(bootstrap, latency_url, databases)
    print()
    print(report(ingest, latency, relay, time.monotonic() - started, cold=args.cold_statistics))
    if args.profile:
        print("(--profile: the ingest rates above were measured under cProfile)")
    if args.cold_statistics:
        print("(--cold-statistics: latency measured before any ANALYZE of the loaded pool)")


if __name__ == "__main__":
    main()
