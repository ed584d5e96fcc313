"""The process's HTTP surface: /metrics, /healthz (alive), /readyz (able to do its job).

A stdlib server on a daemon thread: three read-only endpoints need no framework.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric

from worker.logs import get_logger
from worker.settings import ConfigurationError

ReadinessCheck = Callable[[], tuple[bool, str]]
PageRenderer = Callable[[], str]


log = get_logger("reengage.http")

_TEXT = "text/plain; charset=utf-8"
_REQUEST_TIMEOUT_S = 30.0
# The project's metric families; everything else in the registry is the runtime's.
_OURS = "reengage_"


class _Exposition:
    """The registry's families, less the project's own that this process does not update
    (metrics.py says why). Anything not ours (process, Python) passes."""

    def __init__(self, exposed: Iterable[MetricWrapperBase] | None) -> None:
        self._names = None if exposed is None else {m.name for c in exposed for m in c.describe()}

    def collect(self) -> Iterator[Metric]:
        names = self._names
        for family in REGISTRY.collect():
            if names is None or family.name in names or not family.name.startswith(_OURS):
                yield family


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A connection that failed outside the handler's own answer, logged as one line like
        everything else (the stdlib prints a traceback to stderr). Mostly a client that hung
        up early, which is routine: scrapers and probes give up on a slow answer."""
        error = sys.exc_info()[1]
        level = log.debug if isinstance(error, ConnectionError | TimeoutError) else log.warning
        level("http connection failed", error_class=type(error).__name__)


class _Handler(BaseHTTPRequestHandler):
    readiness: ClassVar[list[ReadinessCheck]] = []
    pages: ClassVar[dict[str, PageRenderer]] = {}
    exposition: ClassVar[_Exposition] = _Exposition(None)

    # A client that sends half a request and stops frees its thread after this long.
    timeout = _REQUEST_TIMEOUT_S

    def do_GET(self) -> None:
        self._reply(*self._answer(), with_body=True)

    def do_HEAD(self) -> None:
        # Probes and uptime checkers use HEAD: the same status and headers, no body.
        self._reply(*self._answer(), with_body=False)

    def _answer(self) -> tuple[int, bytes, str]:
        try:
            return self._route(self.path.split("?", 1)[0])
        except Exception as exc:
            # The class only: a message could quote what the page was rendering.
            log.error("http request failed", error_class=type(exc).__name__)
            return 500, b"internal error\n", _TEXT

    def _route(self, path: str) -> tuple[int, bytes, str]:
        if path == "/metrics":
            return 200, generate_latest(self.exposition), CONTENT_TYPE_LATEST
        if path == "/healthz":
            return 200, b"ok\n", _TEXT
        if path == "/readyz":
            failures = [why for ok, why in (check() for check in self.readiness) if not ok]
            body = ("\n".join(failures) or "ready") + "\n"
            return (503 if failures else 200), body.encode(), _TEXT
        if path in self.pages:
            return 200, self.pages[path]().encode(), "text/html; charset=utf-8"
        return 404, b"not found\n", _TEXT

    def _reply(self, status: int, body: bytes, content_type: str, *, with_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # Access logs would repeat every scrape; metrics already count what matters.
        return


class HttpServer:
    """Serves the endpoints until `close()`. Port 0 picks a free one (see `.port`).
    `metrics`: the project's metrics this process updates (all when None)."""

    def __init__(
        self,
        port: int,
        readiness: list[ReadinessCheck],
        pages: dict[str, PageRenderer] | None = None,
        metrics: Sequence[MetricWrapperBase] | None = None,
        host: str = "0.0.0.0",  # noqa: S104 - probes and scrapers come from outside the pod
    ) -> None:
        handler = type(
            "Handler",
            (_Handler,),
            {
                "readiness": list(readiness),
                "pages": dict(pages or {}),
                "exposition": _Exposition(metrics),
            },
        )
        try:
            self._server = _Server((host, port), handler)
        except OSError as exc:
            raise ConfigurationError(
                "REENGAGE_HTTP_PORT", f"cannot listen on port {port} ({exc.strerror})"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="reengage-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HttpServer:
        self._thread.start()
        # Before the broker is reached, which may take the whole start-up wait: with port 0,
        # this is how a supervisor learns where to probe meanwhile.
        log.info("http server listening", http_port=self.port)
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
