"""The process's HTTP surface: /metrics, /healthz (alive), /readyz (able to do its job).

A stdlib server on a daemon thread: three read-only endpoints need no framework.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from worker.settings import ConfigurationError

ReadinessCheck = Callable[[], tuple[bool, str]]
PageRenderer = Callable[[], str]


class _Handler(BaseHTTPRequestHandler):
    readiness: ClassVar[list[ReadinessCheck]] = []
    pages: ClassVar[dict[str, PageRenderer]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._reply(200, b"ok\n", "text/plain; charset=utf-8")
        elif path == "/readyz":
            failures = [why for ok, why in (check() for check in self.readiness) if not ok]
            body = ("\n".join(failures) or "ready") + "\n"
            self._reply(503 if failures else 200, body.encode(), "text/plain; charset=utf-8")
        elif path in self.pages:
            html = self.pages[path]().encode()
            self._reply(200, html, "text/html; charset=utf-8")
        else:
            self._reply(404, b"not found\n", "text/plain; charset=utf-8")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # Access logs would repeat every scrape; metrics already count what matters.
        return


class HttpServer:
    """Serves the endpoints until `close()`. Port 0 picks a free one (see `.port`)."""

    def __init__(
        self,
        port: int,
        readiness: list[ReadinessCheck],
        pages: dict[str, PageRenderer] | None = None,
        host: str = "0.0.0.0",  # noqa: S104 - probes and scrapers come from outside the pod
    ) -> None:
        handler = type(
            "Handler", (_Handler,), {"readiness": list(readiness), "pages": dict(pages or {})}
        )
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ConfigurationError(
                "REENGAGE_HTTP_PORT", f"cannot listen on port {port} ({exc.strerror})"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="reengage-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
