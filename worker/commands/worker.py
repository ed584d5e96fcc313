"""`reengage worker`: consume ATS events and mailer reports, store, match, write the outbox,
and (unless --no-relay) relay the outbox from the same process."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from worker.ingest.context import IngestConfig
from worker.ingest.group_order import GroupOrder
from worker.ingest.loop import IngestLoop
from worker.kafka.consumer import BatchConsumer
from worker.kafka.dead_letters import DeadLetterBudget, DeadLetterQueue
from worker.kafka.producer import Producer
from worker.logs import get_logger
from worker.outbox.gauges import outbox_gauges_kept_current
from worker.outbox.relay import OutboxRelay
from worker.rules.cancellation import CancellationReason
from worker.runtime.heap import tune_collector
from worker.runtime.http import HttpServer
from worker.runtime.metrics import (
    OUTREACH_CANCELLED,
    RELAY_METRICS,
    WORKER_METRICS,
    show_at_zero,
)
from worker.runtime.readiness import ConsumerAssigned, database_answers
from worker.runtime.shutdown import EXIT_DEADLINE_S, Shutdown
from worker.runtime.startup import check_database, connect_to_broker
from worker.settings import Settings
from worker.status_page.page import StatusPage
from worker.store.engine import create_store_engine

log = get_logger("reengage.worker")


def run(args: argparse.Namespace, settings: Settings) -> int:
    shutdown = Shutdown(deadline_s=EXIT_DEADLINE_S).install()
    engine = create_store_engine(settings.database)
    try:
        return _run(settings, engine, shutdown, relay_in_process=not args.no_relay)
    finally:
        engine.dispose()


def _run(settings: Settings, engine: Engine, shutdown: Shutdown, *, relay_in_process: bool) -> int:
    check_database(engine, settings.startup_timeout_seconds, shutdown)
    group = settings.group_for("worker")
    # Listening first: a port in use is a configuration error, found before joining the group.
    assigned = ConsumerAssigned()
    show_at_zero(OUTREACH_CANCELLED, (reason.value for reason in CancellationReason))
    http = HttpServer(
        settings.http_port,
        readiness=[assigned, database_answers(engine)],
        pages={"/": StatusPage(engine, settings.policy).render},
        # The outbox gauges are the relay's: with --no-relay, `reengage relay` exposes them.
        metrics=WORKER_METRICS + (RELAY_METRICS if relay_in_process else ()),
    ).start()
    try:
        return _consume(
            settings,
            engine,
            shutdown,
            group,
            _Exposed(assigned, http.port),
            relay_in_process=relay_in_process,
        )
    finally:
        http.close()


def _consume(
    settings: Settings,
    engine: Engine,
    shutdown: Shutdown,
    group: str,
    exposed: _Exposed,
    *,
    relay_in_process: bool,
) -> int:
    # The outbox gauges are served only with the relay in-process (see _run).
    gauges = (
        outbox_gauges_kept_current(engine, every_s=settings.relay_sweep_seconds)
        if relay_in_process
        else contextlib.nullcontext()
    )
    with gauges:
        producer, consumer = _connect(settings, shutdown, group)
    exposed.assigned.consumer = consumer
    relay = OutboxRelay(
        engine,
        producer,
        sweep_interval_s=settings.relay_sweep_seconds,
        retry_budget_s=settings.retry_budget_seconds,
    )
    relay_thread = relay.start_in_thread(shutdown) if relay_in_process else None
    loop = ingest_loop(settings, engine, consumer, producer, shutdown, after_commit=relay.wake)
    tune_collector()
    log.info("worker started", group=group, relay=relay_in_process, http_port=exposed.port)
    try:
        with shutdown.noting_failure():
            loop.run()
    finally:
        shutdown.request()
        closing = consumer.start_closing(timeout_s=3)
        if relay_thread is not None:
            relay.wake()
            relay_thread.join(timeout=3)
        producer.close(timeout_s=3)
        closing.join(timeout=5)
    if relay.failure is not None:
        return 1
    log.info("worker stopped")
    return 0


def _connect(settings: Settings, shutdown: Shutdown, group: str) -> tuple[Producer, BatchConsumer]:
    timeout = settings.startup_timeout_seconds
    producer = connect_to_broker(
        lambda: Producer(settings, shutdown=shutdown), timeout_s=timeout, shutdown=shutdown
    )
    consumer = connect_to_broker(
        lambda: BatchConsumer(
            settings,
            group,
            [settings.topic_jobs, settings.topic_candidates, settings.topic_status],
            max_records=settings.batch_max_records,
        ),
        timeout_s=timeout,
        shutdown=shutdown,
        release=lambda: producer.close(timeout_s=3),
    )
    return producer, consumer


@dataclass(frozen=True, slots=True)
class _Exposed:
    """What the HTTP server, started before the broker is reached, needs handed over."""

    assigned: ConsumerAssigned
    port: int


def ingest_loop(
    settings: Settings,
    engine: Engine,
    consumer: BatchConsumer,
    producer: Producer,
    shutdown: Shutdown,
    *,
    after_commit: Callable[[], None],
) -> IngestLoop:
    """The worker's consume-and-apply loop as `reengage worker` wires it (bench/ uses it too)."""
    return IngestLoop(
        engine=engine,
        consumer=consumer,
        dead_letters=DeadLetterQueue(producer, consumer.group_id),
        budget=DeadLetterBudget(settings.dlq_window, settings.dlq_max_ratio),
        config=IngestConfig(
            settings.policy,
            settings.topic_outreach,
            settings.event_source,
            dedupe_retention=settings.dedupe_retention,
        ),
        shutdown=shutdown,
        retry_budget_s=settings.retry_budget_seconds,
        after_commit=after_commit,
        batch_limit=settings.batch_max_records,
        order_grace_s=settings.order_grace_ms / 1000,
        group_order=GroupOrder(
            engine,
            consumer,
            (settings.topic_candidates, settings.topic_status),
            settings.group_wait_max_seconds,
            subscribed=(settings.topic_jobs, settings.topic_candidates, settings.topic_status),
        ),
    )
