"""The status page at `/` of the worker's HTTP port: collect, then render, on each request."""

from __future__ import annotations

from html import escape

from sqlalchemy import Engine

from worker.logs import get_logger
from worker.rules.model import Policy
from worker.status_page.collect import DEFAULT_MAX_JOBS, collect
from worker.status_page.render import render

log = get_logger("reengage.status_page")


class StatusPage:
    """`render()` is what `HttpServer(pages={"/": ...})` calls, from its own thread."""

    def __init__(self, engine: Engine, defaults: Policy, *, max_jobs: int = DEFAULT_MAX_JOBS):
        self._engine = engine
        self._defaults = defaults
        self._max_jobs = max_jobs

    def render(self) -> str:
        try:
            return render(collect(self._engine, self._defaults, max_jobs=self._max_jobs))
        except Exception as exc:
            # The page must not take the worker down, nor print a URL or a value: the class
            # of the error is enough to start looking (the log has the rest).
            log.exception("status page failed")
            return _error_page(type(exc).__name__)


def _error_page(error_class: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="10"><title>reengage status</title></head>'
        f"<body><h1>reengage status</h1><p>The status could not be read ({escape(error_class)})."
        " See the worker's log.</p></body></html>"
    )
