"""The SMTP session against real servers: STARTTLS names the host to TLS, and a shutdown
breaks off a session wherever it hangs without losing or doubling an email."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from tests.integration.mailer.harness import outreach
from tests.integration.mailer.smtp_server import smtp_server
from worker.mailer.compose import Sender, compose
from worker.mailer.smtp import (
    Delivered,
    ServerUnavailableError,
    SmtpConfig,
    SmtpSender,
)
from worker.settings import ConfigurationError

SENDER = Sender("talent@acme.example", "Acme", "acme.example", None, None)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _claim_and_write(write: Callable[[], bool]) -> bool:
    write()
    return True


class _Recorder:
    def __init__(self) -> None:
        self.tls: list[bool] = []

    async def handle_DATA(self, _server: object, session: object, _envelope: object) -> str:
        self.tls.append(getattr(session, "ssl", None) is not None)
        return "250 2.0.0 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_starttls_verifies_the_configured_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate is checked against REENGAGE_SMTP_HOST (the TLS layer must be told
    the host: a session opened without one used to refuse every STARTTLS)."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    trusted = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(trusted))
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))  # read by ssl.create_default_context()
    recorder = _Recorder()
    port = _free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
    )
    controller.start()
    sender = SmtpSender(SmtpConfig("localhost", port, starttls=True))
    try:
        attempt = sender.send(compose(outreach(1), SENDER, NOW), _claim_and_write)
    finally:
        sender.close()
        controller.stop()
    assert isinstance(attempt, Delivered)
    assert recorder.tls == [True]


def test_a_certificate_for_another_name_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retrying would not help: exit 2 naming the host setting, like a refused login."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("mail.acme.example").configure_cert(server_context)
    trusted = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(trusted))
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))
    port = _free_port()
    controller = Controller(
        _Recorder(), hostname="127.0.0.1", port=port, tls_context=server_context
    )
    controller.start()
    sender = SmtpSender(SmtpConfig("127.0.0.1", port, starttls=True))
    try:
        with pytest.raises(ConfigurationError, match="REENGAGE_SMTP_HOST"):
            sender.send(compose(outreach(1), SENDER, NOW), _claim_and_write)
    finally:
        sender.close()
        controller.stop()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word (no greeting)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()


def test_abort_breaks_off_a_session_waiting_for_the_greeting(silent_server: int) -> None:
    sender = SmtpSender(SmtpConfig("127.0.0.1", silent_server))
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            sender.send(compose(outreach(1), SENDER, NOW), _claim_and_write)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # waiting for a greeting that never comes (60 s timeout)
    sender.abort()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ServerUnavailableError)
    with pytest.raises(ServerUnavailableError):  # and nothing is tried after an abort
        sender.send(compose(outreach(2), SENDER, NOW), _claim_and_write)


def test_an_abort_between_the_claim_and_the_end_of_data_hands_nothing_over() -> None:
    """The claim is made, then the shutdown breaks in: the end of data is not written, the
    writer says so (the caller gives the claim back) and the server discards the message."""
    written: list[bool] = []
    with smtp_server() as server:
        sender = SmtpSender(SmtpConfig("127.0.0.1", server.port))

        def claim(write: Callable[[], bool]) -> bool:
            sender.abort()
            written.append(write())
            return True

        try:
            with pytest.raises(ServerUnavailableError):
                sender.send(compose(outreach(1), SENDER, NOW), claim)
        finally:
            sender.close()
    assert written == [False]
    assert server.accepted == []
