"""The ids a dead letter's log line can name, read from a message whose envelope held.

The contract's logs carry `event_id`, `tenant_id`, `job_id` and `outreach_id` where known. A
message dead-lettered for its `data` (or for failing in a handler) has a valid envelope, so its
`id` is known; the other ids are named only when they pass the contract's own field types: an
invalid field is never echoed, since a value in the wrong field may be personal data.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from worker.contracts.fields import EntityId, EventId, ReportedOutreachId, TenantId

_EVENT_ID: TypeAdapter[str] = TypeAdapter(EventId)
_TENANT_ID: TypeAdapter[str] = TypeAdapter(TenantId)
_ENTITY_ID: TypeAdapter[str] = TypeAdapter(EntityId)
_OUTREACH_ID: TypeAdapter[str] = TypeAdapter(ReportedOutreachId)


def ids_for_logs(raw: bytes | None) -> dict[str, str]:
    """`event_id`, and `tenant_id` / `job_id` / `outreach_id` when valid (as the contract
    reads them: trimmed where it trims); {} for a value that is not a JSON object."""
    try:
        message: Any = from_json(raw) if raw else None
    except ValueError:
        return {}
    if not isinstance(message, dict):
        return {}
    data = message.get("data")
    data = data if isinstance(data, dict) else {}
    job = data.get("job")
    found = {
        "event_id": (message.get("id"), _EVENT_ID),
        "tenant_id": (data.get("tenant_id"), _TENANT_ID),
        "job_id": (job.get("job_id") if isinstance(job, dict) else data.get("job_id"), _ENTITY_ID),
        "outreach_id": (data.get("outreach_id"), _OUTREACH_ID),
    }
    ids = {}
    for name, (value, field) in found.items():
        if isinstance(value, str):
            try:
                ids[name] = field.validate_python(value)
            except ValidationError:
                continue
    return ids
