"""`reengage relay`: publish the outbox from a process of its own (when scaling workers)."""

from __future__ import annotations

import argparse

from sqlalchemy import Engine

from worker.kafka.producer import Producer
from worker.logs import get_logger
from worker.outbox.gauges import outbox_gauges_kept_current
from worker.outbox.relay import OutboxRelay
from worker.runtime.heap import tune_collector
from worker.runtime.http import HttpServer
from worker.runtime.metrics import RELAY_METRICS
from worker.runtime.readiness import database_answers
from worker.runtime.shutdown import EXIT_DEADLINE_S, Shutdown
from worker.runtime.startup import check_database, connect_to_broker
from worker.settings import Settings
from worker.store.engine import create_store_engine

log = get_logger("reengage.relay")


def run(_args: argparse.Namespace, settings: Settings) -> int:
    shutdown = Shutdown(deadline_s=EXIT_DEADLINE_S).install()
    engine = create_store_engine(settings.database)
    try:
        check_database(engine, settings.startup_timeout_seconds, shutdown)
        # The relay has no consumer: ready means it can read the outbox. (A broker outage
        # shows as a growing reengage_outbox_pending, and the relay retries it in place.)
        # Listening before the broker is reached: liveness and the backlog answer meanwhile.
        http = HttpServer(
            settings.http_port, readiness=[database_answers(engine)], metrics=RELAY_METRICS
        ).start()
        try:
            return _relay(settings, engine, shutdown, http.port)
        finally:
            http.close()
    finally:
        engine.dispose()


def _relay(settings: Settings, engine: Engine, shutdown: Shutdown, http_port: int) -> int:
    with outbox_gauges_kept_current(engine, every_s=settings.relay_sweep_seconds):
        producer = connect_to_broker(
            lambda: Producer(settings, shutdown=shutdown),
            timeout_s=settings.startup_timeout_seconds,
            shutdown=shutdown,
        )
    relay = OutboxRelay(
        engine,
        producer,
        sweep_interval_s=settings.relay_sweep_seconds,
        retry_budget_s=settings.retry_budget_seconds,
    )
    tune_collector()
    log.info("relay started", http_port=http_port)
    try:
        with shutdown.noting_failure():
            relay.run(shutdown)
    finally:
        producer.close(timeout_s=3)
    return 1 if relay.failure is not None else 0
