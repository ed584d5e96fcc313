"""The ids a dead letter's log line names: well-formed ones only, never a failed value."""

from __future__ import annotations

import io
import json
from collections import Counter

from tests.unit.contracts.strategies import as_json
from worker.contracts.catalogue import ALL_TYPES
from worker.contracts.decode import Invalid, decode
from worker.contracts.log_ids import ids_for_logs
from worker.kafka.dead_letters import DeadLetter, publish_counts
from worker.kafka.records import Record
from worker.logs import configure_logging

OUTREACH_ID = "0b7a3f0e-5d7c-5f4e-9a51-0d4f1c2e9a10"


def _message(data: object, event_id: object = "evt-1") -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:ats:x",
        "type": "ats.candidate.updated",
        "data": data,
    }


def test_well_formed_ids_are_named() -> None:
    raw = as_json(_message({"tenant_id": " acme ", "job_id": "J-1", "email": "jane@example.com"}))
    assert ids_for_logs(raw) == {"event_id": "evt-1", "tenant_id": "acme", "job_id": "J-1"}
    request = {"tenant_id": "acme", "outreach_id": OUTREACH_ID, "job": {"job_id": "J-2"}}
    assert ids_for_logs(as_json(_message(request))) == {
        "event_id": "evt-1",
        "tenant_id": "acme",
        "job_id": "J-2",
        "outreach_id": OUTREACH_ID,
    }


def test_ids_that_break_their_rule_are_left_out() -> None:
    data = {"tenant_id": "jane@example.com", "job_id": "J" * 129, "outreach_id": "Jane Doe"}
    assert ids_for_logs(as_json(_message(data, event_id="x" * 257))) == {}
    assert ids_for_logs(as_json(_message({"tenant_id": 7, "job_id": ["J-1"]}))) == {
        "event_id": "evt-1"
    }
    assert ids_for_logs(as_json(_message("not an object"))) == {"event_id": "evt-1"}


def test_a_value_that_is_no_json_object_names_nothing() -> None:
    for raw in (None, b"", b"\xff not json", b"[1, 2]", b'"text"'):
        assert ids_for_logs(raw) == {}


def _logged_dead_letter(raw: bytes) -> dict[str, object]:
    verdict = decode(raw, ALL_TYPES)
    assert isinstance(verdict, Invalid)
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    record = Record("ats.candidates", 0, 7, b"acme:C-1", raw, ())
    letter = DeadLetter(record, verdict.error_class, verdict.reason, verdict.event_type)
    publish_counts(Counter(), [letter], [])
    (line,) = [json.loads(s) for s in stream.getvalue().splitlines()]
    return dict(line)


def test_a_dead_letter_with_a_sound_envelope_is_logged_with_its_ids() -> None:
    raw = as_json(_message({"tenant_id": "acme", "candidate_id": "C-1", "first_name": "J" * 201}))
    line = _logged_dead_letter(raw)
    assert line["error_class"] == "bad_data"
    assert (line["event_id"], line["tenant_id"], line["offset"]) == ("evt-1", "acme", 7)


def test_a_dead_letter_whose_envelope_failed_names_no_id() -> None:
    raw = as_json(_message({"tenant_id": "acme"}, event_id="x" * 257))
    line = _logged_dead_letter(raw)
    assert line["error_class"] == "bad_envelope"
    assert "event_id" not in line and "tenant_id" not in line
