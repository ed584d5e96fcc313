"""Dead letters as the worker writes them, for the replay tests: built with `to_outgoing`,
so the tests follow the real header layout rather than a copy of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from worker.contracts.examples import example_messages
from worker.kafka.dead_letters import DeadLetter, to_outgoing
from worker.kafka.records import Record

FAILED_AT = datetime(2026, 11, 20, 9, 31, tzinfo=UTC)
OWN_HEADERS = (("traceparent", b"00-abc-01"), ("blob", bytes([0, 255])), ("empty", b""))


def job_opened(job_id: str = "J-1042") -> tuple[bytes, bytes]:
    """A valid `ats.job.opened` (key, value)."""
    message = example_messages()["ats.job.opened"]
    event = json.loads(message.value)
    event["id"] = f"evt-{job_id}"
    event["data"]["job_id"] = job_id
    return f"acme:{job_id}".encode(), json.dumps(event).encode()


def job_opened_without_title(job_id: str = "J-1") -> tuple[bytes, bytes]:
    key, value = job_opened(job_id)
    event = json.loads(value)
    del event["data"]["title"]
    return key, json.dumps(event).encode()


def dead_letter(
    key: bytes | None,
    value: bytes | None,
    *,
    original_topic: str = "ats.jobs",
    original_offset: int = 7,
    dlq_offset: int = 0,
    dlq_partition: int = 0,
    headers: tuple[tuple[str, bytes], ...] = OWN_HEADERS,
) -> Record:
    """The record a replay reads from `<original_topic>.dlq`."""
    failed = Record(original_topic, 2, original_offset, key, value, headers)
    out = to_outgoing(DeadLetter(failed, "bad_data", "data.title: Field required"), "g", FAILED_AT)
    return Record(out.topic, dlq_partition, dlq_offset, out.key, out.value, out.headers)
