"""Encoding: ids, keys, envelopes, and bytes that are the same every time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid5

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.contracts.strategies import MESSAGES
from tests.unit.contracts.support import schema_errors
from worker.contracts.ats import JobOpened
from worker.contracts.catalogue import ALL_TYPES, BY_TYPE
from worker.contracts.decode import Decoded, decode
from worker.contracts.encode import (
    MAILER_SOURCE,
    WORKER_SOURCE,
    OutgoingMessage,
    ats_event,
    encode,
    outreach_requested,
    partition_key,
)
from worker.contracts.examples import example_messages
from worker.contracts.fields import format_timestamp
from worker.contracts.outreach import OutreachRequested, outreach_id

EXAMPLES = example_messages()


def test_outreach_id_is_the_uuid5_the_spec_gives() -> None:
    expected = uuid5(UUID("c7d2887b-df6a-55c3-8e79-53aa763e879f"), "acme/J-1/C-1")
    assert outreach_id("acme", "J-1", "C-1") == str(expected)
    assert outreach_id("acme", "J-1", "C-1") == outreach_id("acme", "J-1", "C-1").lower()


def test_outreach_id_changes_with_each_part() -> None:
    ids = {
        outreach_id("acme", "J-1", "C-1"),
        outreach_id("globex", "J-1", "C-1"),
        outreach_id("acme", "J-2", "C-1"),
        outreach_id("acme", "J-1", "C-2"),
    }
    assert len(ids) == 4


def test_worker_events_carry_the_outreach_id_source_time_and_subject() -> None:
    for event_type in ("reengage.outreach.requested", "reengage.outreach.cancelled"):
        event = EXAMPLES[event_type].event
        assert event.id == event.data.outreach_id
        assert event.source == WORKER_SOURCE
        assert event.subject == "candidate/C-77"
    requested = EXAMPLES["reengage.outreach.requested"].event
    assert requested.time == requested.data.requested_at
    cancelled = EXAMPLES["reengage.outreach.cancelled"].event
    assert cancelled.time == cancelled.data.cancelled_at


def test_the_source_is_configurable() -> None:
    data = EXAMPLES["reengage.outreach.requested"].event.data
    assert outreach_requested(data, source="urn:reengage:eu-1").event.source == "urn:reengage:eu-1"


def test_mailer_events_have_one_id_per_outreach_and_status() -> None:
    statuses = [EXAMPLES[t].event for t in ALL_TYPES if BY_TYPE[t].producer == "mailer"]
    assert {event.source for event in statuses} == {MAILER_SOURCE}
    assert len({event.id for event in statuses}) == 3
    assert all(event.subject == "candidate/C-77" for event in statuses)


def test_keys_follow_the_topic() -> None:
    assert EXAMPLES["ats.job.opened"].key == b"acme:J-1042"
    assert EXAMPLES["ats.job.closed"].key == b"acme:J-1042"
    assert EXAMPLES["ats.candidate.updated"].key == b"acme:C-77"
    assert EXAMPLES["ats.candidate.erased"].key == b"acme:C-78"
    for event_type in ALL_TYPES - {"ats.job.opened", "ats.job.closed", "ats.candidate.erased"}:
        assert EXAMPLES[event_type].key == b"acme:C-77"
        assert partition_key(EXAMPLES[event_type].event) == "acme:C-77"


def test_timestamps_are_written_in_utc_with_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2026, 11, 20, 11, 30, tzinfo=plus_two)) == (
        "2026-11-20T09:30:00Z"
    )
    assert format_timestamp(datetime(2026, 11, 20, 9, 30, 0, 250000, tzinfo=UTC)) == (
        "2026-11-20T09:30:00.250000Z"
    )
    assert format_timestamp(datetime(1, 1, 2, 2, 30, tzinfo=plus_two)) == "0001-01-02T00:30:00Z"


def test_the_same_instant_in_another_offset_gives_the_same_bytes() -> None:
    message = EXAMPLES["reengage.outreach.requested"]
    data = message.event.data
    assert isinstance(data, OutreachRequested)
    shifted = data.model_copy(
        update={"requested_at": data.requested_at.astimezone(timezone(timedelta(hours=-7)))}
    )
    assert outreach_requested(shifted).value == message.value


def test_values_are_compact_utf8_json_without_absent_attributes() -> None:
    updated = EXAMPLES["ats.candidate.updated"]
    assert updated.value.startswith(b'{"specversion":"1.0","id":')
    assert b'": ' not in updated.value
    assert b", " not in updated.value.replace(b"Berlin, Germany", b"")
    closed_without_time = updated.event.model_copy(update={"time": None, "subject": None})
    encoded = json.loads(encode(closed_without_time))
    assert "time" not in encoded
    assert "subject" not in encoded
    assert encoded["data"]["first_name"] == "Jane"


def test_non_ascii_is_written_as_utf8() -> None:
    data = EXAMPLES["ats.candidate.updated"].event.data.model_copy(update={"first_name": "Zoë"})
    event = EXAMPLES["ats.candidate.updated"].event.model_copy(update={"data": data})
    assert "Zoë".encode() in encode(event)


def test_every_field_of_data_is_written_even_when_null() -> None:
    job = JobOpened(
        tenant_id="acme",
        job_id="J-1",
        title="Analyst",
        required_credentials=(),
        opened_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    message = ats_event(job, event_id="e-1", source="urn:ats:test")
    data = json.loads(message.value)["data"]
    assert data == {
        "tenant_id": "acme",
        "job_id": "J-1",
        "title": "Analyst",
        "required_credentials": [],
        "preferred_credentials": [],
        "location": None,
        "apply_url": None,
        "opened_at": "2026-11-20T00:00:00Z",
        "policy": None,
    }


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_encode_then_decode_round_trips_for_every_type(data: st.DataObject) -> None:
    for event_type in sorted(ALL_TYPES):
        message: OutgoingMessage = data.draw(MESSAGES[event_type], label=event_type)
        result = decode(message.value, ALL_TYPES)
        assert result == Decoded(message.event)
        assert encode(result.event) == message.value
        assert schema_errors(event_type, json.loads(message.value)) == []
