"""structlog, configured once: JSON lines by default, with personal data masked.

Handlers log ids, never names or addresses; the masking processor is the safety net for
anything that slips through (an exception message quoting input, say).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal

import structlog

# Any characters an address may hold, not just ASCII: internationalised addresses
# (`josé@exämple.com`, `用户@例子.中国`) are personal data too.
_ADDRESS_CHAR = r"[^\s@<>()\[\],;:\"'`]"
_EMAIL = re.compile(
    rf"({_ADDRESS_CHAR}){_ADDRESS_CHAR}*@({_ADDRESS_CHAR}+\.(?:(?!\.){_ADDRESS_CHAR}){{2,}})"
)
# Keys whose values are personal data whatever they look like.
_PERSONAL_KEYS = frozenset({"email", "first_name", "last_name", "name", "full_name", "to"})
_REDACTED = "[redacted]"


def mask_emails(text: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`."""
    return _EMAIL.sub(r"\1***@\2", text)


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


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
