"""Delivery in-process against the real SMTP server and database: 4xx retried until the
attempts run out; two mailers racing for the same outreach send one email."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.integration.mailer.harness import outreach
from tests.integration.mailer.smtp_server import SmtpServer, smtp_server
from worker.contracts.outreach import OutreachRequested
from worker.mailer import ledger
from worker.mailer.compose import Sender
from worker.mailer.deliver import MAX_ATTEMPTS, Deliverer, Delivery
from worker.mailer.ledger import MailState
from worker.mailer.rate import TokenBucket
from worker.mailer.smtp import SmtpConfig, SmtpSender

SENDER = Sender("talent@acme.example", "Acme", "acme.example", None, None)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    def script(stage: str, recipient: str, _attempt: int) -> str | None:
        if stage == "data" and recipient.startswith("full"):
            return "452 4.2.2 Mailbox full"
        return None

    with smtp_server(script) as running:
        yield running


def _deliverer(engine: Engine, server: SmtpServer, claimant: str) -> tuple[Deliverer, SmtpSender]:
    smtp = SmtpSender(SmtpConfig("127.0.0.1", server.port))
    deliverer = Deliverer(
        engine=engine,
        server=smtp,
        sender=SENDER,
        bucket=TokenBucket(1000.0),
        claimant=claimant,
        idle=lambda _s: None,
        retry_budget_s=10,
        retry_initial_s=0.001,
    )
    return deliverer, smtp


def test_4xx_until_the_last_attempt_is_retries_exhausted(
    ledger_engine: Engine, server: SmtpServer
) -> None:
    deliverer, smtp = _deliverer(ledger_engine, server, "me")
    try:
        delivery = deliverer.deliver(outreach(1, email="full@example.com"))
    finally:
        smtp.close()
    assert delivery is not None and delivery.fresh
    entry = delivery.entry
    assert (entry.state, entry.reason) == (MailState.FAILED, "retries_exhausted")
    assert entry.detail == "452 4.2.2 Mailbox full (at end of data)"
    assert entry.attempts == MAX_ATTEMPTS  # each claim released after its 452
    assert server.handler.attempts["full@example.com"] == MAX_ATTEMPTS
    assert server.accepted == []


def test_two_mailers_racing_for_the_same_outreach_send_one_email(
    ledger_engine: Engine, server: SmtpServer
) -> None:
    requests = [outreach(n) for n in range(20)]
    results: dict[str, list[Delivery | None]] = {r.outreach_id: [] for r in requests}
    lock = threading.Lock()
    start = threading.Barrier(2)

    def run(claimant: str, order: list[OutreachRequested]) -> None:
        deliverer, smtp = _deliverer(ledger_engine, server, claimant)
        start.wait()
        try:
            for request in order:
                delivery = deliverer.deliver(request)
                with lock:
                    results[request.outreach_id].append(delivery)
        finally:
            smtp.close()

    threads = [
        threading.Thread(target=run, args=("a", requests)),
        threading.Thread(target=run, args=("b", list(reversed(requests)))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(server.message_ids().values()) == [1] * len(requests)
    for outreach_id, deliveries in results.items():
        fresh = [d for d in deliveries if d is not None and d.fresh]
        assert len(fresh) <= 1, outreach_id
        with ledger_engine.connect() as connection:
            entry = ledger.get(connection, outreach_id)
        assert entry is not None and entry.state is MailState.SENT
