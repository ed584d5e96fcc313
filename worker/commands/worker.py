"""`reengage worker`: consume ATS events and mailer reports, store, match, write the outbox,
and (unless --no-relay) relay the outbox from the same process."""

from __future__ import annotations

import argparse
import threading

from sqlalchemy import Engine, text

from worker.ingest.context import IngestConfig
from worker.ingest.loop import IngestLoop
from worker.kafka.consumer import BatchConsumer
from worker.kafka.dead_letters import DeadLetterBudget, DeadLetterQueue
from worker.kafka.producer import Producer
from worker.logs import get_logger
from worker.outbox.relay import OutboxRelay
from worker.runtime.http import HttpServer
from worker.runtime.shutdown import Shutdown
from worker.runtime.startup import check_database, connect_or_fail
from worker.settings import Settings
from worker.status_page.page import StatusPage
from worker.store.engine import create_store_engine

log = get_logger("reengage.worker")

BROKER = "REENGAGE_KAFKA_BOOTSTRAP_SERVERS"


def run(args: argparse.Namespace, settings: Settings) -> int:
    shutdown = Shutdown().install()
    engine = create_store_engine(settings.database)
    try:
        return _run(settings, engine, shutdown, relay_in_process=not args.no_relay)
    finally:
        engine.dispose()


def _run(settings: Settings, engine: Engine, shutdown: Shutdown, *, relay_in_process: bool) -> int:
    timeout = settings.startup_timeout_seconds
    check_database(engine, timeout)
    group = settings.group_for("worker")
    producer = connect_or_fail(
        lambda: Producer(settings), variable=BROKER, what="cannot reach Kafka", timeout_s=timeout
    )
    consumer = connect_or_fail(
        lambda: BatchConsumer(
            settings,
            group,
            [settings.topic_jobs, settings.topic_candidates, settings.topic_status],
            max_records=settings.batch_max_records,
        ),
        variable=BROKER,
        what="cannot reach Kafka",
        timeout_s=timeout,
    )
    relay = OutboxRelay(engine, producer, sweep_interval_s=settings.relay_sweep_seconds)
    relay_thread: threading.Thread | None = None
    if relay_in_process:
        relay_thread = relay.start_in_thread(shutdown)
    http = HttpServer(
        settings.http_port,
        readiness=[lambda: _assigned(consumer), lambda: _database_ok(engine)],
        pages={"/": StatusPage(engine, settings.policy).render},
    ).start()
    loop = IngestLoop(
        engine=engine,
        consumer=consumer,
        dead_letters=DeadLetterQueue(producer, group),
        budget=DeadLetterBudget(settings.dlq_window, settings.dlq_max_ratio),
        config=IngestConfig(settings.policy, settings.topic_outreach, settings.event_source),
        shutdown=shutdown,
        retry_budget_s=settings.retry_budget_seconds,
        after_commit=relay.wake,
    )
    log.info("worker started", group=group, relay=relay_in_process, http_port=http.port)
    try:
        loop.run()
    finally:
        shutdown.request()
        consumer.close()
        relay.wake()
        if relay_thread is not None:
            relay_thread.join(timeout=5)
        producer.close()
        http.close()
    if relay.failure is not None:
        return 1
    log.info("worker stopped")
    return 0


def _assigned(consumer: BatchConsumer) -> tuple[bool, str]:
    return (bool(consumer.assigned), "no partitions assigned")


def _database_ok(engine: Engine) -> tuple[bool, str]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return (False, "database unreachable")
    return (True, "")
