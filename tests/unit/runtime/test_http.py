"""The HTTP surface on a real socket: what probes, scrapers and impatient clients get."""

from __future__ import annotations

import http.client
import io
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from worker.logs import configure_logging
from worker.runtime.http import HttpServer
from worker.runtime.metrics import MAILER_METRICS, RELAY_METRICS

BIG_PAGE = "x" * 8_000_000


def _raise() -> str:
    raise RuntimeError("a message quoting jane@example.com")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    served = HttpServer(
        0,
        readiness=[lambda: (True, "")],
        pages={"/": lambda: "<p>status</p>", "/big": lambda: BIG_PAGE, "/broken": _raise},
        host="127.0.0.1",
    ).start()
    try:
        yield served
    finally:
        served.close()


def _request(server: HttpServer, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/readyz", 200), ("/", 200)])
def test_head_answers_like_get_without_a_body(server: HttpServer, path: str, status: int) -> None:
    got_status, got_headers, got_body = _request(server, "GET", path)
    head_status, head_headers, head_body = _request(server, "HEAD", path)
    assert (head_status, got_status) == (status, status)
    assert head_headers["Content-Length"] == got_headers["Content-Length"] == str(len(got_body))
    assert head_headers["Content-Type"] == got_headers["Content-Type"]
    assert head_body == b""


def test_a_client_that_hangs_up_early_leaves_no_traceback(
    server: HttpServer, capfd: pytest.CaptureFixture[str]
) -> None:
    for _ in range(5):
        client = socket.create_connection(("127.0.0.1", server.port))
        client.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        client.recv(1)  # the answer has started
        # Close with a reset, as a scraper that timed out does: the write on the far end fails.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
    _wait_until_requests_are_handled()  # each failed write is reported by then
    assert _request(server, "GET", "/healthz")[0] == 200
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "Exception occurred" not in captured.err + captured.out


def _wait_until_requests_are_handled() -> None:
    """Until no connection thread of the server is left (the stdlib names each after
    `process_request_thread`); bounded, and failing loudly rather than passing early."""
    deadline = time.monotonic() + 10
    while any("process_request_thread" in t.name for t in threading.enumerate()):
        assert time.monotonic() < deadline, "connection threads still running after 10 s"
        time.sleep(0.01)


def test_a_page_that_fails_answers_500_and_logs_only_the_class(
    server: HttpServer, capfd: pytest.CaptureFixture[str]
) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)  # as the commands do, into a buffer
    status, _, body = _request(server, "GET", "/broken")
    assert (status, body) == (500, b"internal error\n")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["event"], e["error_class"]) for e in lines] == [
        ("http request failed", "RuntimeError")
    ]
    captured = capfd.readouterr()
    output = captured.err + captured.out + stream.getvalue()
    assert "Traceback" not in output
    assert "jane@example.com" not in output


def _families(server: HttpServer) -> set[str]:
    status, _, body = _request(server, "GET", "/metrics")
    assert status == 200
    return {line.split()[2] for line in body.decode().splitlines() if line.startswith("# TYPE ")}


def test_metrics_shows_only_what_the_process_updates() -> None:
    """A mailer's outbox gauge at 0 beside a worker's real backlog would be summed or alerted
    on as a fact; the families a command never updates are left out instead."""
    mailer = HttpServer(0, readiness=[], metrics=MAILER_METRICS, host="127.0.0.1").start()
    relay = HttpServer(0, readiness=[], metrics=RELAY_METRICS, host="127.0.0.1").start()
    everything = HttpServer(0, readiness=[], host="127.0.0.1").start()
    try:
        shown_by_mailer = _families(mailer)
        shown_by_relay = _families(relay)
        shown_by_default = _families(everything)
    finally:
        for served in (mailer, relay, everything):
            served.close()

    ours = {
        "reengage_mail_total",
        "reengage_events_total",
        "reengage_batch_seconds",
        "reengage_consumer_lag",
    }
    assert {f for f in shown_by_mailer if f.startswith("reengage_")} == ours
    assert {f for f in shown_by_relay if f.startswith("reengage_")} == {
        "reengage_outbox_pending",
        "reengage_outbox_oldest_seconds",
    }
    assert "reengage_outbox_pending" in shown_by_default
    assert "reengage_outreach_requested_total" in shown_by_default
    # The runtime's own collectors are every process's.
    assert "python_info" in shown_by_mailer & shown_by_relay
