"""`reengage mailer`: the reference mailer (worker/mailer): consume `reengage.outreach` in its
own group, send each outreach at most once over SMTP, publish to `reengage.outreach.status`."""

from __future__ import annotations

import argparse
import os
import socket
import threading
import uuid

from sqlalchemy import Engine

from worker.kafka.consumer import BatchConsumer
from worker.kafka.dead_letters import DeadLetterBudget, DeadLetterQueue
from worker.kafka.producer import Producer
from worker.logs import get_logger
from worker.mailer.compose import Sender
from worker.mailer.loop import MAIL_OUTCOMES, MailerLoop
from worker.mailer.rate import TokenBucket
from worker.mailer.smtp import SmtpConfig, SmtpSender
from worker.runtime.heap import tune_collector
from worker.runtime.http import HttpServer
from worker.runtime.metrics import MAIL, MAILER_METRICS, show_at_zero
from worker.runtime.readiness import ConsumerAssigned, database_answers
from worker.runtime.shutdown import EXIT_DEADLINE_S, Shutdown
from worker.runtime.startup import check_database, connect_to_broker
from worker.settings import Settings
from worker.store.engine import create_store_engine

log = get_logger("reengage.mailer")

# A batch holds about this many seconds of mail at the configured rate, so status events
# follow the emails closely and a shutdown finishes its batch quickly.
BATCH_SECONDS_OF_MAIL = 5.0
# After SIGTERM, an email still waiting on the SMTP server this long is broken off, so the
# process exits within the 10 s the operating interface promises.
SEND_GRACE_AFTER_SHUTDOWN_S = 4.0


def run(_args: argparse.Namespace, settings: Settings) -> int:
    shutdown = Shutdown(deadline_s=EXIT_DEADLINE_S).install()
    sender = Sender.from_settings(settings)
    engine = create_store_engine(settings.database)
    try:
        return _run(settings, engine, sender, shutdown)
    finally:
        engine.dispose()


def batch_size(settings: Settings) -> int:
    by_rate = int(settings.mail_rate_per_second * BATCH_SECONDS_OF_MAIL)
    return max(1, min(settings.batch_max_records, by_rate))


def claimant_token() -> str:
    """Who holds a `sending` claim: host, process and a random part (pids are reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _run(settings: Settings, engine: Engine, sender: Sender, shutdown: Shutdown) -> int:
    check_database(engine, settings.startup_timeout_seconds, shutdown)
    # Listening before the broker is reached: a liveness probe answers during that wait.
    assigned = ConsumerAssigned()
    show_at_zero(MAIL, MAIL_OUTCOMES)
    http = HttpServer(
        settings.http_port,
        readiness=[assigned, database_answers(engine)],
        metrics=MAILER_METRICS,
    ).start()
    try:
        return _mail(settings, engine, sender, shutdown, assigned=assigned, http_port=http.port)
    finally:
        http.close()


def _mail(
    settings: Settings,
    engine: Engine,
    sender: Sender,
    shutdown: Shutdown,
    *,
    assigned: ConsumerAssigned,
    http_port: int,
) -> int:
    timeout = settings.startup_timeout_seconds
    group = settings.group_for("mailer")
    producer = connect_to_broker(
        lambda: Producer(settings, shutdown=shutdown), timeout_s=timeout, shutdown=shutdown
    )
    consumer = connect_to_broker(
        lambda: BatchConsumer(
            settings, group, [settings.topic_outreach], max_records=batch_size(settings)
        ),
        timeout_s=timeout,
        shutdown=shutdown,
        release=lambda: producer.close(timeout_s=3),
    )
    assigned.consumer = consumer
    server = SmtpSender(SmtpConfig.from_settings(settings))
    loop = MailerLoop(
        engine=engine,
        consumer=consumer,
        producer=producer,
        dead_letters=DeadLetterQueue(producer, group),
        budget=DeadLetterBudget(settings.dlq_window, settings.dlq_max_ratio),
        server=server,
        sender=sender,
        bucket=TokenBucket(settings.mail_rate_per_second),
        claimant=claimant_token(),
        status_topic=settings.topic_status,
        shutdown=shutdown,
        retry_budget_s=settings.retry_budget_seconds,
    )
    tune_collector()
    log.info(
        "mailer started",
        group=group,
        topic=settings.topic_outreach,
        rate_per_second=settings.mail_rate_per_second,
        http_port=http_port,
    )
    stopped = threading.Event()
    threading.Thread(
        target=_break_off_slow_send,
        args=(shutdown, stopped, server),
        name="reengage-smtp-deadline",
        daemon=True,
    ).start()
    try:
        with shutdown.noting_failure():
            loop.run()
    finally:
        shutdown.request()
        closing = consumer.start_closing(timeout_s=3)
        server.close()  # its QUIT is under the deadline too: a hung server may not answer
        stopped.set()
        producer.close(timeout_s=3)
        closing.join(timeout=5)
    log.info("mailer stopped")
    return 0


def _break_off_slow_send(shutdown: Shutdown, stopped: threading.Event, server: SmtpSender) -> None:
    while not shutdown.wait(3600):
        pass
    if not stopped.wait(SEND_GRACE_AFTER_SHUTDOWN_S):
        log.warning("the SMTP server is slow to answer: breaking off the email in flight")
        server.abort()
