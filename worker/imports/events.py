"""One imported row as the `ats.candidate.updated` event the ATS would have published.

The event id is a UUIDv5 of (tenant, candidate, updated_at): importing the same export twice
publishes the same ids, which the worker ignores as duplicates, as long as each row's
`updated_at` is the same both times (given in the file, or the same --updated-at); a snapshot
with the same `updated_at` would change nothing anyway.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from worker.contracts.ats import CandidateUpdated
from worker.contracts.encode import OutgoingMessage, ats_event
from worker.contracts.fields import format_timestamp

IMPORT_SOURCE = "urn:reengage:import"
IMPORT_NAMESPACE = UUID("5a0e6c1f-3b8d-5e2a-9c47-1d6f8b2e4a93")


def import_event_id(candidate: CandidateUpdated) -> str:
    name = (
        f"{candidate.tenant_id}/{candidate.candidate_id}/{format_timestamp(candidate.updated_at)}"
    )
    return str(uuid5(IMPORT_NAMESPACE, name))


def candidate_event(
    candidate: CandidateUpdated, source: str = IMPORT_SOURCE, event_id: str | None = None
) -> OutgoingMessage:
    """`event_id`: `import_event_id(candidate)`, if the caller has it already."""
    event_id = import_event_id(candidate) if event_id is None else event_id
    return ats_event(candidate, event_id=event_id, source=source, time=candidate.updated_at)
