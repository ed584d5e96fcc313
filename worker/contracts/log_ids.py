"""The ids a dead letter's log line can name, read from a message whose envelope held.

The contract's logs carry `event_id`, `tenant_id`, `job_id` and `outreach_id` where known. A
message dead-lettered for its `data` (or for failing in a handler) has a valid envelope, so its
`id` is known; the other ids are named only when they are well-formed by the contract's rules:
an invalid field is never echoed, since a value in the wrong field may be personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic_core import from_json

from worker.contracts.fields import OUTREACH_ID_PATTERN, TENANT_ID_PATTERN

_TENANT_ID = re.compile(TENANT_ID_PATTERN)
_OUTREACH_ID = re.compile(OUTREACH_ID_PATTERN)
_MAX_EVENT_ID_CHARS = 256
_MAX_JOB_ID_CHARS = 128


def ids_for_logs(raw: bytes | None) -> dict[str, str]:
    """`event_id`, and `tenant_id` / `job_id` / `outreach_id` when well-formed; {} for a
    value that is not a JSON object."""
    try:
        message: Any = from_json(raw) if raw else None
    except ValueError:
        return {}
    if not isinstance(message, dict):
        return {}
    data = message.get("data")
    data = data if isinstance(data, dict) else {}
    job = data.get("job")
    candidates: dict[str, tuple[object, Callable[[str], object]]] = {
        "event_id": (message.get("id"), _is_event_id),
        "tenant_id": (_trimmed(data.get("tenant_id")), _TENANT_ID.fullmatch),
        "job_id": (
            _trimmed(job.get("job_id") if isinstance(job, dict) else data.get("job_id")),
            _is_job_id,
        ),
        "outreach_id": (data.get("outreach_id"), _OUTREACH_ID.fullmatch),
    }
    return {
        name: value
        for name, (value, well_formed) in candidates.items()
        if isinstance(value, str) and well_formed(value)
    }


def _trimmed(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _is_event_id(value: str) -> bool:
    return 0 < len(value) <= _MAX_EVENT_ID_CHARS and value.isprintable()


def _is_job_id(value: str) -> bool:
    return 0 < len(value) <= _MAX_JOB_ID_CHARS and value.isprintable()
