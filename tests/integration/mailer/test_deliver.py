"""Delivery in-process against the real SMTP server and database: 4xx retried until the
attempts run out; two mailers racing for the same outreach send one email."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from tests.integration.mailer.harness import outreach
from tests.integration.mailer.smtp_server import SmtpServer, smtp_server
from worker.contracts.outreach import OutreachRequested
from worker.logs import configure_logging
from worker.mailer import ledger
from worker.mailer.compose import Sender, compose
from worker.mailer.deliver import MAX_ATTEMPTS, Deliverer, Delivery
from worker.mailer.ledger import MailState
from worker.mailer.rate import TokenBucket
from worker.mailer.smtp import SmtpConfig, SmtpSender
from worker.settings import ConfigurationError

SENDER = Sender("talent@acme.example", "Acme", "acme.example", None, None)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    def script(stage: str, recipient: str, _attempt: int) -> str | None:
        if stage == "data" and recipient.startswith("full"):
            return "452 4.2.2 Mailbox full"
        if stage == "data" and recipient.startswith("busy"):
            return "451 4.3.0 Mailbox of Jane Doe is busy"  # some servers quote the name
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
        delivery = deliverer.deliver(outreach(1, email="fullbox@example.com"))
    finally:
        smtp.close()
    assert delivery is not None and delivery.fresh
    entry = delivery.entry
    assert (entry.state, entry.reason) == (MailState.FAILED, "retries_exhausted")
    assert entry.detail == "452 4.2.2 Mailbox full (at end of data)"
    assert entry.attempts == MAX_ATTEMPTS  # each claim released after its 452
    assert server.handler.attempts["fullbox@example.com"] == MAX_ATTEMPTS
    assert server.accepted == []


def test_the_retry_log_masks_the_names_a_server_quotes(
    ledger_engine: Engine, server: SmtpServer
) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    deliverer, smtp = _deliverer(ledger_engine, server, "me")
    try:
        deliverer.deliver(outreach(1, email="busybee@example.com"))
    finally:
        smtp.close()
    retries = [
        json.loads(line)
        for line in stream.getvalue().splitlines()
        if "retrying" in json.loads(line)["event"]
    ]
    assert len(retries) == MAX_ATTEMPTS - 1
    assert {r["reply"] for r in retries} == {"451 4.3.0 Mailbox of [name] is busy (at end of data)"}
    assert "Jane" not in stream.getvalue() and "Doe" not in stream.getvalue()


def test_an_address_our_server_cannot_carry_is_not_blamed(ledger_engine: Engine) -> None:
    """A valid non-ASCII address and a relay without SMTPUTF8: nothing is sent, and the
    report is not `rejected` (which tells the worker the address is unusable)."""
    with smtp_server(smtputf8=False) as plain:
        deliverer, smtp = _deliverer(ledger_engine, plain, "me")
        try:
            delivery = deliverer.deliver(outreach(1, email="jürgen@example.com"))
        finally:
            smtp.close()
        assert plain.accepted == []
    assert delivery is not None
    entry = delivery.entry
    assert (entry.state, entry.reason) == (MailState.FAILED, "retries_exhausted")
    assert entry.detail == (
        "not sent: the SMTP server does not offer SMTPUTF8, which this address needs"
    )


def test_a_login_the_server_does_not_offer_is_a_configuration_error(
    ledger_engine: Engine, server: SmtpServer
) -> None:
    """Credentials set, no AUTH offered (often: it is offered only after STARTTLS): exit 2
    naming the setting, not a server outage retried for the whole budget."""
    secret = SecretStr("s3cret-Pa55")
    smtp = SmtpSender(SmtpConfig("127.0.0.1", server.port, username="u", password=secret))
    try:
        with pytest.raises(ConfigurationError, match="REENGAGE_SMTP_USERNAME") as raised:
            smtp.send(compose(outreach(1), SENDER, NOW), lambda _write: True)
    finally:
        smtp.close()
    assert "REENGAGE_SMTP_STARTTLS" in str(raised.value)
    assert secret.get_secret_value() not in str(raised.value)
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


def _pending(engine: Engine, outreach_id: str) -> bool:
    with engine.connect() as connection:
        entry = ledger.get(connection, outreach_id)
    return entry is not None and (entry.state, entry.claimed_by) == (MailState.PENDING, None)


def test_a_request_whose_partition_went_away_is_not_claimed_or_sent(
    ledger_engine: Engine, server: SmtpServer
) -> None:
    """The waits before an email (pace, read-ahead) poll, and a poll may hand the partition
    to another mailer: this one must not go on and send what the other is about to."""
    deliverer, smtp = _deliverer(ledger_engine, server, "me")
    request = outreach(1)
    try:
        assert deliverer.deliver(request, still_ours=lambda: False) is None
    finally:
        smtp.close()
    assert server.accepted == []
    assert _pending(ledger_engine, request.outreach_id)  # for the next owner, as it was


def test_a_partition_lost_during_a_4xx_backoff_ends_the_retries_unclaimed(
    ledger_engine: Engine, server: SmtpServer
) -> None:
    """Before, the next attempt claimed again after the backoff's polls had handed the
    partition over, and its outcome could overwrite the next owner's."""
    deliverer, smtp = _deliverer(ledger_engine, server, "me")
    request = outreach(1, email="fullbox@example.com")
    asked: list[bool] = []

    def still_ours() -> bool:
        asked.append(not asked)  # ours for the first attempt only
        return asked[-1]

    try:
        assert deliverer.deliver(request, still_ours=still_ours) is None
    finally:
        smtp.close()
    assert asked == [True, False]
    assert server.handler.attempts["fullbox@example.com"] == 1
    assert _pending(ledger_engine, request.outreach_id)


@pytest.mark.parametrize(
    ("reply", "variable"),
    [
        ("554 5.7.1 <{to}>: Relay access denied", "REENGAGE_SMTP_USERNAME"),  # Postfix
        ("550 relay not permitted", "REENGAGE_SMTP_USERNAME"),  # Exim, no enhanced status
        ("530 5.7.0 Authentication required", "REENGAGE_SMTP_USERNAME"),
        ("530 5.7.0 Must issue a STARTTLS command first", "REENGAGE_SMTP_STARTTLS"),
    ],
)
def test_a_recipient_refused_for_who_we_are_stops_the_mailer_and_blames_no_address(
    ledger_engine: Engine, reply: str, variable: str
) -> None:
    """A relay that wants a login refuses every recipient with a 5xx: reported `rejected`,
    the worker would mark every candidate's address unusable for good, one email at a time."""
    request = outreach(1, email="relay@example.com")  # the word is in the address too

    def script(stage: str, recipient: str, _attempt: int) -> str | None:
        return reply.format(to=recipient) if stage == "rcpt" else None

    with smtp_server(script) as refusing:
        deliverer, smtp = _deliverer(ledger_engine, refusing, "me")
        try:
            with pytest.raises(ConfigurationError) as raised:
                deliverer.deliver(request)
        finally:
            smtp.close()
        assert refusing.accepted == []
    assert raised.value.variable == variable
    assert "relay@example.com" not in str(raised.value)
    assert "(at rcpt)" in str(raised.value)  # the reply, for the operator
    with ledger_engine.connect() as connection:
        entry = ledger.get(connection, request.outreach_id)
    assert entry is None or entry.state is MailState.PENDING  # nothing reported


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <{to}>: Recipient address rejected",  # "relay" only in the address
        "550 5.1.1 <{to}>: Recipient address rejected: User unknown in relay recipient table",
        "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required",
        "550 5.7.1 <{to}>: Recipient address rejected: does not accept your sender address",
    ],
)
def test_a_recipient_refused_for_who_they_are_is_rejected(
    ledger_engine: Engine, reply: str
) -> None:
    """Even in words that speak of relays or logins: a configuration error would stop the
    mailer at this record on every start."""
    request = outreach(1, email="relay@example.com")

    def script(stage: str, recipient: str, _attempt: int) -> str | None:
        return reply.format(to=recipient) if stage == "rcpt" else None

    with smtp_server(script) as refusing:
        deliverer, smtp = _deliverer(ledger_engine, refusing, "me")
        try:
            delivery = deliverer.deliver(request)
        finally:
            smtp.close()
    assert delivery is not None
    assert (delivery.entry.state, delivery.entry.reason) == (MailState.FAILED, "rejected")
    detail = delivery.entry.detail or ""
    assert detail.startswith("550 5.") and detail.endswith("(at rcpt)")
    assert "relay@" not in detail  # masked: the address, and its local part as a name
