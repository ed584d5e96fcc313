"""How the worker classifies a polled batch before any database work: decoded, dead, skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from worker.contracts.encode import outreach_skipped
from worker.contracts.outreach import outreach_id
from worker.contracts.status import OutreachSkipped
from worker.ingest.loop import classify_records
from worker.kafka.records import Record

T = datetime(2026, 6, 1, tzinfo=UTC)


def _record(offset: int, value: bytes) -> Record:
    return Record("reengage.outreach.status", 0, offset, None, value)


def _skipped_report() -> bytes:
    data = OutreachSkipped(
        outreach_id=outreach_id("acme", "j-1", "c-1"),
        tenant_id="acme",
        candidate_id="c-1",
        job_id="j-1",
        reason="cancelled",
    )
    return outreach_skipped(data, time=T).value


def test_a_skipped_report_is_skipped_even_when_its_data_is_not_the_contracts() -> None:
    """The worker has nothing to do with `reengage.outreach.skipped`: like any type it does
    not handle, it is counted and passed over, not validated and dead-lettered."""
    valid = _skipped_report()
    envelope = json.loads(valid)
    envelope["data"]["reason"] = "a reason a newer mailer invented"
    del envelope["data"]["job_id"]
    odd = json.dumps(envelope).encode()

    classified = classify_records([_record(0, valid), _record(1, odd), _record(2, b"not json")])

    assert [(r.offset, kind) for r, kind in classified.skipped] == [
        (0, "reengage.outreach.skipped"),
        (1, "reengage.outreach.skipped"),
    ]
    assert [letter.record.offset for letter in classified.dead] == [2]
    assert classified.incoming == []
