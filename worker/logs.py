"""structlog, configured once: JSON lines by default, with personal data masked.

Handlers log ids, never names or addresses; the masking processor is the safety net for
anything that slips through (an exception message quoting input, say).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal

import structlog

# Any characters an address may hold, not just ASCII: internationalised addresses
# (`josé@exämple.com`, `用户@例子.中国`) are personal data too.
_ADDRESS_CHAR = r"[^\s@<>()\[\],;:\"'`]"
# Wider than a deliverable address on purpose, as a safety net should be: a quoted local
# part (`"jane doe"@example.com`), a domain without a dot (`jane@localhost`) or an address
# literal (`jane@[192.0.2.1]`) are someone's address all the same.
_LOCAL_PART = rf'(?:"[^"\r\n]*"|{_ADDRESS_CHAR}+)'
_DOMAIN = rf"(?:\[[^\]\s]*\]|{_ADDRESS_CHAR}+)"
# `%40`: an address inside a URL (a server's reply may link to `...?rcpt=jane%40example.com`).
_EMAIL = re.compile(rf"({_LOCAL_PART})(?:@|%40)({_DOMAIN})")
# Keys whose values are personal data whatever they look like.
_PERSONAL_KEYS = frozenset({"email", "first_name", "last_name", "name", "full_name", "to"})
_REDACTED = "[redacted]"


def mask_emails(text: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`."""
    return _EMAIL.sub(_masked, text)


def _masked(found: re.Match[str]) -> str:
    first = found[1].lstrip('"')[:1]  # of a quoted local part, its first letter
    return f"{first}***@{found[2]}"


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_emails(value)
    if isinstance(value, Mapping):
        return {k: _REDACTED if k in _PERSONAL_KEYS else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask(v) for v in value]
    return value


def mask_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask addresses anywhere in the event, drop known personal keys."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _REDACTED if key in _PERSONAL_KEYS else _mask(value)
    return event_dict


def configure_logging(
    level: str = "INFO", fmt: Literal["json", "console"] = "json", stream: Any = None
) -> None:
    """Configure structlog (and the stdlib loggers it wraps, e.g. kafka's) for the process."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[
            *shared,
            mask_personal_data,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            mask_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RepeatLimiter(prefix="kafka"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # kafka-python is chatty at INFO about every connection; keep its warnings.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root.level))
    # Except the assignor's "No partition metadata for topic" at a group join that comes
    # before the topics' metadata (a restart): the group rebalances again once it arrives.
    logging.getLogger("kafka.coordinator.assignors").setLevel(max(logging.ERROR, root.level))
    # Alembic announces its dialect on every schema check; only migrations are news.
    logging.getLogger("alembic.runtime.migration").setLevel(max(logging.WARNING, root.level))


# Kinds of message RepeatLimiter remembers at most.
_MAX_KINDS = 1_000


class RepeatLimiter(logging.Filter):
    """Lets each message of the loggers under `prefix` through once per `window_s`, and says
    how many like it it held back (at its next one through; a count held at the end is not
    reported). kafka-python logs every failed connection attempt, an
    error and two warnings each: about 40 lines in 15 s while a start-up waits for a broker
    that is down, burying the one line that says so. Alike means the same logger, level and
    message template (its arguments, such as a wait in seconds, may differ)."""

    def __init__(
        self, prefix: str, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._prefix = prefix
        self._window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        # (logger, level, template) -> (when it last got through, held back since)
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if name != self._prefix and not name.startswith(self._prefix + "."):
            return True
        key = (name, record.levelno, str(record.msg))
        now = self._clock()
        with self._lock:
            last, held = self._seen.get(key, (None, 0))
            if last is not None and now - last < self._window_s:
                self._seen[key] = (last, held + 1)
                return False
            if len(self._seen) >= _MAX_KINDS:
                self._forget_quiet_kinds(now)
            self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this held back since the last)"
        return True

    def _forget_quiet_kinds(self, now: float) -> None:
        """Bounds the memory: some of the client's messages are formatted before logging
        (an f-string quoting a backoff), so each text is a kind of its own. Kinds outside
        the window go first; their held-back counts go unreported."""
        self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self._window_s}
        if len(self._seen) >= _MAX_KINDS:
            self._seen.clear()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


@contextmanager
def about_one_record(**fields: str | int) -> Iterator[None]:
    """Every line logged in this thread within the block carries `fields` (topic, partition,
    offset, ids): for work on one record whose lines come from code that does not know it."""
    with structlog.contextvars.bound_contextvars(**fields):
        yield


@contextmanager
def about_no_record() -> Iterator[None]:
    """Inside `about_one_record`, for work on other records (a read-ahead, a poll): its
    lines must not name the record of the enclosing block."""
    saved = structlog.contextvars.get_contextvars()
    structlog.contextvars.clear_contextvars()
    try:
        yield
    finally:
        structlog.contextvars.bind_contextvars(**saved)
