"""What the mailer takes from its topic: a request or cancellation whose outreach_id is not
its own ids' never reaches the ledger, which is keyed by that id."""

from __future__ import annotations

import json
from pathlib import Path

from worker.kafka.records import Record
from worker.mailer.loop import classify_records

EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples"


def _record(offset: int, value: bytes) -> Record:
    return Record("reengage.outreach", 0, offset, None, value)


def _example(event_type: str, **data: str) -> bytes:
    event = json.loads((EXAMPLES / f"{event_type}.json").read_bytes())
    event["data"].update(data)
    return json.dumps(event).encode()


def test_another_tenant_s_outreach_id_is_a_dead_letter_not_a_request_or_a_cancellation() -> None:
    records = [
        _record(0, _example("reengage.outreach.requested", tenant_id="globex")),
        _record(1, _example("reengage.outreach.cancelled", tenant_id="globex")),
        _record(2, _example("reengage.outreach.requested")),
        _record(3, _example("reengage.outreach.cancelled")),
    ]
    batch = classify_records(records)
    assert [dead.record.offset for dead in batch.dead] == [0, 1]
    assert {dead.error_class for dead in batch.dead} == {"bad_data"}
    assert [record.offset for record, _ in batch.requests] == [2]
    assert [record.offset for record, _ in batch.cancels] == [3]
