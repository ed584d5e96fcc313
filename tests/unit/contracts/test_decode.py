"""Decoding at the edge: what is accepted, how it is read, and how bad input is reported."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.contracts.strategies import SECRET, as_json, json_values, secret_values
from tests.unit.contracts.support import EXAMPLES, schema_errors
from worker.contracts.catalogue import ALL_TYPES, KINDS
from worker.contracts.decode import (
    MAX_MESSAGE_BYTES,
    MAX_REASON_CHARS,
    Decoded,
    Invalid,
    Skipped,
    decode,
)
from worker.contracts.envelope import CandidateUpdatedEvent, JobOpenedEvent


def _example(event_type: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_bytes())
    return document


def _with(event_type: str, **data: Any) -> bytes:
    event = _example(event_type)
    event["data"].update(data)
    return as_json(event)


def _decoded(raw: bytes) -> Any:
    result = decode(raw, ALL_TYPES)
    assert isinstance(result, Decoded), result
    return result.event


def _invalid(raw: bytes | None) -> Invalid:
    result = decode(raw, ALL_TYPES)
    assert isinstance(result, Invalid), result
    return result


# --- what never gets past the edge --------------------------------------------------------


def test_a_tombstone_is_not_json() -> None:
    assert _invalid(None).error_class == "not_json"


def test_size_is_checked_before_anything_else() -> None:
    event = as_json(_example("ats.job.closed"))
    padding = MAX_MESSAGE_BYTES - len(event)
    at_limit = event[:-1] + b" " * padding + b"}"
    assert len(at_limit) == MAX_MESSAGE_BYTES
    assert isinstance(decode(at_limit, ALL_TYPES), Decoded)

    over = at_limit + b" "
    assert _invalid(over).error_class == "too_large"
    assert _invalid(b"\xff" * (MAX_MESSAGE_BYTES + 1)).error_class == "too_large"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b"\xff\xfe{}",
        b'{"specversion": "1.0", "id": "\xc3\x28"}',
        b"\xef\xbb\xbf{}",  # a byte order mark is not JSON
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b'{"type": "ats.job.closed"} trailing',
    ],
    ids=lambda raw: repr(raw[:20]),
)
def test_what_is_not_json(raw: bytes) -> None:
    assert _invalid(raw).error_class == "not_json"


@pytest.mark.parametrize("raw", [b"[]", b'"ats.job.closed"', b"42", b"null", b"true"])
def test_a_message_is_one_json_object(raw: bytes) -> None:
    assert _invalid(raw) == Invalid("bad_envelope", "the message is not a JSON object")


@pytest.mark.parametrize(
    ("change", "attribute"),
    [
        ({"specversion": None}, "specversion"),
        ({"specversion": "1.0.1"}, "specversion"),
        ({"id": ""}, "id"),
        ({"id": 17}, "id"),
        ({"source": None}, "source"),
        ({"time": "2026-11-20T09:30:00"}, "time"),
    ],
)
def test_a_bad_attribute_is_named(change: dict[str, Any], attribute: str) -> None:
    event = _example("ats.job.opened") | change
    invalid = _invalid(as_json(event))
    assert invalid.error_class == "bad_envelope"
    assert invalid.reason.startswith(f"{attribute}: ")


_IGNORED_ATTRIBUTES = ("subject", "datacontenttype")
WORKER_PUBLISHES = frozenset(kind.type for kind in KINDS if kind.producer == "worker")


@pytest.mark.parametrize("event_type", sorted(ALL_TYPES))
@pytest.mark.parametrize(
    "value", [None, "", 42, "x" * 5000, {"a": 1}, "text/plain", "application/json; charset=utf-8"]
)
def test_an_optional_attribute_nobody_reads_never_costs_the_event(
    event_type: str, value: Any
) -> None:
    """The spec dead-letters for a missing required attribute or bad data, not for these;
    the worker's own types included (the published schemas promise what the worker writes,
    but a mailer reading another publisher's requests must not dead-letter them)."""
    for attribute in _IGNORED_ATTRIBUTES:
        _decoded(as_json(_example(event_type) | {attribute: value}))
        _decoded(as_json({k: v for k, v in _example(event_type).items() if k != attribute}))


@pytest.mark.parametrize("event_type", sorted(WORKER_PUBLISHES))
@pytest.mark.parametrize(
    ("change", "attribute"),
    [
        ({"time": None}, "time"),
        ({"id": "not-an-outreach-id"}, "id"),
    ],
)
def test_the_worker_s_events_carry_what_the_spec_promises(
    event_type: str, change: dict[str, Any], attribute: str
) -> None:
    invalid = _invalid(as_json(_example(event_type) | change))
    assert invalid.error_class == "bad_envelope"
    assert invalid.reason.startswith(f"{attribute}: ")


def test_a_missing_type_is_a_bad_envelope() -> None:
    event = _example("ats.job.opened")
    del event["type"]
    assert _invalid(as_json(event)) == Invalid("bad_envelope", "type: Field required")


@pytest.mark.parametrize("value", ["", 7, None, ["ats.job.opened"]])
def test_a_type_that_is_not_a_name_is_a_bad_envelope(value: Any) -> None:
    event = _example("ats.job.opened") | {"type": value}
    assert _invalid(as_json(event)).error_class == "bad_envelope"


def test_the_envelope_is_reported_before_the_data() -> None:
    event = _example("ats.job.opened")
    del event["id"]
    event["data"]["title"] = ""
    assert _invalid(as_json(event)) == Invalid(
        "bad_envelope", "id: Field required", "ats.job.opened"
    )


def test_bad_data_names_every_path() -> None:
    raw = _with(
        "ats.candidate.updated",
        credentials=["SQL", ""],
        applications=[{"job_id": "J-1", "job_title": "Analyst", "applied_at": "yesterday"}],
    )
    invalid = _invalid(raw)
    assert invalid.error_class == "bad_data"
    assert invalid.reason == (
        "data.credentials[1]: String should have at least 1 character; "
        "data.applications[0].applied_at: Input should be an RFC 3339 timestamp with an "
        "offset (Z or +hh:mm)"
    )


def test_a_reason_is_bounded() -> None:
    raw = _with("ats.candidate.updated", credentials=[""] * 200)
    invalid = _invalid(raw)
    assert invalid.error_class == "bad_data"
    assert len(invalid.reason) == MAX_REASON_CHARS


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    event_type=st.sampled_from(sorted(ALL_TYPES)),
    replacements=st.dictionaries(st.sampled_from(range(40)), secret_values, min_size=1),
    envelope=st.dictionaries(
        st.sampled_from(["id", "source", "time", "subject", "specversion"]), secret_values
    ),
)
def test_a_reason_never_quotes_the_input(
    event_type: str, replacements: dict[int, Any], envelope: dict[str, Any]
) -> None:
    event = _example(event_type) | envelope
    _replace_leaves(event["data"], replacements)
    result = decode(as_json(event), ALL_TYPES)
    if isinstance(result, Invalid):
        assert SECRET not in result.reason
        assert "example.com" not in result.reason


def _replace_leaves(
    node: Any, replacements: dict[int, Any], counter: list[int] | None = None
) -> None:
    """Replace the n-th scalar (depth first) for each n in `replacements`."""
    counter = counter if counter is not None else [0]
    items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
    for key, value in items:
        if isinstance(value, dict | list) and value:
            _replace_leaves(value, replacements, counter)
            continue
        if counter[0] in replacements:
            node[key] = copy.deepcopy(replacements[counter[0]])
        counter[0] += 1


# --- never raises -------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(decode(raw, ALL_TYPES), Decoded | Invalid | Skipped)


@settings(max_examples=300)
@given(json_values)
def test_arbitrary_json_never_raises(value: Any) -> None:
    assert isinstance(decode(as_json(value), ALL_TYPES), Invalid | Skipped)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    event_type=st.sampled_from(sorted(ALL_TYPES)),
    handled=st.sets(st.sampled_from(sorted(ALL_TYPES))).map(frozenset),
    key=st.sampled_from(["specversion", "id", "source", "type", "time", "data", "extra"]),
    value=json_values,
    data_value=json_values,
)
def test_arbitrary_values_in_real_events_never_raise(
    event_type: str, handled: frozenset[str], key: str, value: Any, data_value: Any
) -> None:
    event = _example(event_type)
    event[key] = value
    if isinstance(event.get("data"), dict) and event["data"]:
        first_field = next(iter(event["data"]))
        event["data"][first_field] = data_value
    result = decode(as_json(event), handled)
    assert isinstance(result, Decoded | Invalid | Skipped)
    if isinstance(result, Decoded):
        assert result.event.type in handled


def _rank(number: bytes) -> bytes:
    return _with("reengage.outreach.requested", rank=0).replace(b'"rank": 0', b'"rank": ' + number)


@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"-" + b"9" * 400])
def test_huge_numbers_are_bad_data(number: bytes) -> None:
    assert _invalid(_rank(number)).reason.startswith("data.rank: ")


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
@pytest.mark.parametrize("where", ["validated field", "unknown data field", "extension"])
def test_nan_and_infinity_are_not_json_wherever_they_are(token: bytes, where: str) -> None:
    event = _example("reengage.outreach.requested")
    placeholder = "<number>"
    if where == "validated field":
        event["data"]["rank"] = placeholder
    elif where == "unknown data field":
        event["data"]["score"] = placeholder
    else:
        event["confidence"] = placeholder
    message = as_json(event).replace(json.dumps(placeholder).encode(), token)
    invalid = _invalid(message)
    assert (invalid.error_class, invalid.event_type) == ("not_json", "")
    assert re.fullmatch(r"Invalid JSON: [a-z ]+ at line 1 column \d+", invalid.reason)


@pytest.mark.parametrize("token", [b"NaN", b"Infinity"])
@pytest.mark.parametrize("where", ["first", "after other capitals", "last"])
def test_the_token_is_found_wherever_it_is_among_look_alike_bytes(token: bytes, where: str) -> None:
    """The scan starts at the first byte the token could start with: capitals before it,
    or the token as the message's last value, must not hide it."""
    event = _example("ats.job.opened")
    event["data"]["title"] = "Nurse IN Nantes, Iowa"  # N and I before any token
    placeholder = "<number>"
    if where == "first":
        event = {"score": placeholder, **event}
    elif where == "after other capitals":
        event["data"]["score"] = placeholder
    else:
        event["zz"] = placeholder
    message = as_json(event).replace(json.dumps(placeholder).encode(), token)
    assert _invalid(message).error_class == "not_json"


def test_nan_and_infinity_inside_a_string_are_text() -> None:
    assert _decoded(_with("ats.job.opened", title="NaN-Infinity analyst")).data.title == (
        "NaN-Infinity analyst"
    )


def test_a_number_beyond_the_parser_is_not_json() -> None:
    assert _invalid(_rank(b"1" * 5000)).error_class == "not_json"


# --- skipping -----------------------------------------------------------------------------


def test_a_type_added_later_is_skipped() -> None:
    event = {"specversion": "1.0", "id": "1", "source": "urn:ats:x", "type": "ats.job.paused"}
    assert decode(as_json(event), ALL_TYPES) == Skipped("ats.job.paused")


def test_a_known_type_the_consumer_does_not_handle_is_skipped_whatever_its_data() -> None:
    handled = frozenset({"reengage.outreach.failed", "reengage.outreach.sent"})
    skipped = as_json(_example("reengage.outreach.skipped"))
    assert decode(skipped, handled) == Skipped("reengage.outreach.skipped")
    broken = _with("reengage.outreach.skipped", reason="bored")
    assert decode(broken, handled) == Skipped("reengage.outreach.skipped")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id: "),
        ({"source": ""}, "source: "),
        ({"specversion": "0.3"}, "specversion: "),
        ({"id": "x" * 257}, "id: "),
    ],
)
def test_a_skipped_type_without_a_sound_envelope_is_dead_lettered(
    change: dict[str, object], reason: str
) -> None:
    added_later = {"specversion": "1.0", "id": "1", "source": "urn:ats:x", "type": "ats.job.paused"}
    not_handled = json.loads(as_json(_example("reengage.outreach.skipped")))
    handled = frozenset({"reengage.outreach.sent"})
    for message in (added_later, not_handled):
        broken = {k: v for k, v in {**message, **change}.items() if v is not None}
        result = decode(as_json(broken), handled)
        assert isinstance(result, Invalid)
        assert (result.error_class, result.event_type) == ("bad_envelope", "")
        assert result.reason.startswith(reason)


def test_a_skipped_type_s_optional_attributes_are_not_held_to_our_finer_rules() -> None:
    added_later = {"specversion": "1.0", "id": "1", "source": "urn:ats:x", "type": "ats.job.paused"}
    for extra in (
        {"time": "2016-12-31T23:59:60Z"},  # a leap second: RFC 3339 has them
        {"subject": ""},
        {"datacontenttype": "x" * 300},
    ):
        assert decode(as_json({**added_later, **extra}), ALL_TYPES) == Skipped("ats.job.paused")


def test_a_skipped_type_name_is_bounded() -> None:
    envelope = {"specversion": "1.0", "id": "1", "source": "urn:ats:x"}
    result = decode(as_json({**envelope, "type": "x" * 5000}), ALL_TYPES)
    assert isinstance(result, Skipped)
    assert len(result.event_type) == 256


def test_handled_types_must_be_types_of_the_contract() -> None:
    with pytest.raises(ValueError, match=r"ats\.job\.reopened"):
        decode(b"{}", frozenset({"ats.job.opened", "ats.job.reopened"}))


# --- how accepted input is read -----------------------------------------------------------


def test_unknown_attributes_and_fields_are_ignored() -> None:
    event = _example("ats.job.closed") | {"traceparent": "00-abc", "partitionkey": "k"}
    event["data"]["reopen_reason"] = {"nested": [1, 2]}
    decoded = _decoded(as_json(event))
    assert decoded == _decoded(as_json(_example("ats.job.closed")))
    assert "traceparent" not in decoded.model_dump()


def test_strings_are_trimmed_and_credentials_keep_their_spelling() -> None:
    raw = _with(
        "ats.job.opened",
        title="\t Senior Data Analyst \n",
        required_credentials=["  ＳＱＬ ", "Power\u3000BI\u3000"],
        job_id=" J-1042 ",
    )
    data = _decoded(raw).data
    assert data.title == "Senior Data Analyst"
    assert data.required_credentials == ("ＳＱＬ", "Power\u3000BI")
    assert data.job_id == "J-1042"


def test_limits_apply_after_trimming() -> None:
    assert _decoded(_with("ats.job.opened", title=" " * 50 + "T" * 300 + " " * 50))
    assert _invalid(_with("ats.job.opened", title="T" * 301)).error_class == "bad_data"
    assert _invalid(_with("ats.job.opened", title="  \u3000 ")).error_class == "bad_data"


def test_a_blank_optional_string_means_absent() -> None:
    raw = _with("ats.candidate.updated", email="", first_name="", location="\t")
    data = _decoded(raw).data
    assert (data.email, data.first_name, data.location) == (None, None, None)
    # An address is taken as given: whitespace is part of it (and makes it invalid).
    assert _decoded(_with("ats.candidate.updated", email="  ")).data.email == "  "
    opened = _decoded(_with("ats.job.opened", apply_url=" ", location="")).data
    assert (opened.apply_url, opened.location) == (None, None)


def test_null_or_missing_optional_arrays_are_empty() -> None:
    event = _example("ats.candidate.updated")
    del event["data"]["applications"]
    event["data"]["credentials"] = None
    data = _decoded(as_json(event)).data
    assert (data.credentials, data.applications) == ((), ())
    job = _decoded(_with("ats.job.opened", preferred_credentials=None)).data
    assert job.preferred_credentials == ()


def test_required_credentials_are_never_assumed_empty() -> None:
    invalid = _invalid(_with("ats.job.opened", required_credentials=None))
    assert invalid.reason == "data.required_credentials: Input should be a valid array"


def test_preferred_credentials_have_no_length_limit_and_blank_ones_are_dropped() -> None:
    long = "Kubernetes " * 20_000
    raw = _with("ats.job.opened", preferred_credentials=[f" {long}", "", "  \t", "Go"])
    assert _decoded(raw).data.preferred_credentials == (long.strip(), "Go")
    too_many = _invalid(_with("ats.job.opened", preferred_credentials=["Go"] * 51))
    assert (
        too_many.reason
        == "data.preferred_credentials: Tuple should have at most 50 items after validation, not 51"
    )


def test_a_blank_past_job_title_does_not_cost_the_rest_of_the_snapshot() -> None:
    applications = [{"job_id": "J-9", "job_title": "  ", "applied_at": "2025-01-02T00:00:00Z"}]
    raw = _with("ats.candidate.updated", do_not_contact=True, applications=applications)
    data = _decoded(raw).data
    assert data.do_not_contact is True
    assert data.applications[0].job_title == ""


def test_a_mailer_report_with_a_blank_message_id_is_applied() -> None:
    assert _decoded(_with("reengage.outreach.sent", message_id="")).data.message_id == ""


@pytest.mark.parametrize(
    "event_type",
    ["reengage.outreach.sent", "reengage.outreach.skipped", "reengage.outreach.failed"],
)
def test_a_reported_outreach_id_is_read_in_any_case_as_lowercase(event_type: str) -> None:
    written = _example(event_type)["data"]["outreach_id"]
    assert written == written.lower()
    decoded = _decoded(_with(event_type, outreach_id=written.upper()))
    assert decoded.data.outreach_id == written
    assert _invalid(_with(event_type, outreach_id=written[:-1] + "g")).error_class == "bad_data"


@pytest.mark.parametrize("event_type", sorted(WORKER_PUBLISHES))
@pytest.mark.parametrize("field", ["tenant_id", "job_id", "candidate_id"])
def test_an_outreach_id_that_is_not_its_ids_own_is_refused(event_type: str, field: str) -> None:
    """A mailer keys its ledger by outreach_id: another tenant's id beside these ids would
    stand for that tenant's outreach."""
    event = _example(event_type)
    data = event["data"]
    holder = data.get("job", data) if field == "job_id" else data
    holder = data.get("candidate", holder) if field == "candidate_id" else holder
    holder[field] = "globex" if field == "tenant_id" else "X-1"
    invalid = _invalid(as_json(event))
    assert (invalid.error_class, invalid.reason) == (
        "bad_data",
        "data: outreach_id is not the one derived from tenant_id, job_id and candidate_id",
    )


def test_required_credentials_keep_their_limits() -> None:
    too_long = _invalid(_with("ats.job.opened", required_credentials=["x" * 101]))
    assert (
        too_long.reason == "data.required_credentials[0]: String should have at most 100 characters"
    )
    blank = _invalid(_with("ats.job.opened", required_credentials=[" "]))
    assert blank.reason == "data.required_credentials[0]: String should have at least 1 character"


def test_defaults_fill_what_is_left_out() -> None:
    event = _example("ats.candidate.updated")
    event["data"] = {
        "tenant_id": "acme",
        "candidate_id": "C-1",
        "updated_at": "2026-11-20T09:30:00Z",
    }
    data = _decoded(as_json(event)).data
    assert (data.do_not_contact, data.email_status, data.email) == (False, "unknown", None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("do_not_contact", "true"),
        ("do_not_contact", 1),
        ("do_not_contact", None),
        ("email_status", None),
        ("email_status", "Valid"),
        ("candidate_id", 1234),
        ("credentials", "SQL"),
        ("credentials", [5]),
    ],
)
def test_types_are_not_coerced(field: str, value: Any) -> None:
    invalid = _invalid(_with("ats.candidate.updated", **{field: value}))
    assert invalid.reason.startswith(f"data.{field}")


@pytest.mark.parametrize("value", ["30", 30.0, 30.5, True])
def test_integers_are_json_integers(value: Any) -> None:
    invalid = _invalid(_with("ats.job.opened", policy={"min_inactive_days": value}))
    assert invalid.reason.startswith("data.policy.min_inactive_days: ")


def test_a_syntactically_invalid_email_is_stored_as_given() -> None:
    data = _decoded(_with("ats.candidate.updated", email=" jane at example dot com ")).data
    assert data.email == " jane at example dot com "
    padded = _decoded(_with("ats.candidate.updated", email=" jane@example.com ")).data
    assert padded.email == " jane@example.com "  # so rule 4 finds it invalid, as the spec says
    # The 254-character limit applies after trimming, as every limit in the contract does.
    longest = "j" * 242 + "@example.com"
    padded_longest = _decoded(_with("ats.candidate.updated", email=f"  {longest} \t")).data
    assert padded_longest.email == f"  {longest} \t"
    too_long = _invalid(_with("ats.candidate.updated", email=f" j{longest} "))
    assert too_long.reason == "data.email: String should have at most 254 characters"
    not_text = _invalid(_with("ats.candidate.updated", email=42))
    assert not_text.reason == "data.email: Input should be a valid string"


def test_policy_window_must_be_ordered_only_when_both_bounds_are_given() -> None:
    ordered = {"min_inactive_days": 30, "max_inactive_days": 30}
    assert _decoded(_with("ats.job.opened", policy=ordered)).data.policy.max_inactive_days == 30
    assert _decoded(_with("ats.job.opened", policy={"max_inactive_days": 10}))
    reversed_window = {"min_inactive_days": 31, "max_inactive_days": 30}
    assert _invalid(_with("ats.job.opened", policy=reversed_window)).reason == (
        "data.policy: max_inactive_days must be at least min_inactive_days"
    )


def test_tenant_id_pattern() -> None:
    assert _decoded(_with("ats.job.closed", tenant_id="a")).data.tenant_id == "a"
    assert _decoded(_with("ats.job.closed", tenant_id="A" + "b._-" * 15 + "xyz"))
    for bad in ["", "-acme", "acme corp", "acme/eu", "é", "a" * 65]:
        assert _invalid(_with("ats.job.closed", tenant_id=bad)).reason.startswith("data.tenant_id")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T09:30:00Z", datetime(2026, 11, 20, 9, 30, tzinfo=UTC)),
        ("2026-11-20t09:30:00z", datetime(2026, 11, 20, 9, 30, tzinfo=UTC)),
        ("2026-11-20T10:30:00+01:00", datetime(2026, 11, 20, 9, 30, tzinfo=UTC)),
        ("2026-11-20T09:30:00.5-00:00", datetime(2026, 11, 20, 9, 30, 0, 500000, tzinfo=UTC)),
        ("2026-11-20T09:30:00.123456789Z", datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)),
        # RFC 3339 sets no limit on the fraction (.NET's "o" format writes seven digits)
        ("2026-11-20T09:30:00.1234567Z", datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)),
        (
            "2026-11-20T09:30:00.1234567890123Z",
            datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC),
        ),
        ("0001-01-02T23:59:00+23:59", datetime(1, 1, 2, tzinfo=UTC)),
        ("9999-12-30T23:59:59.999999Z", datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)),
        # RFC 3339's leap second, held as the last microsecond of the second before it
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2016-12-31T23:59:60.25Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2017-01-01T08:59:60+09:00", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_timestamps_with_an_offset(text: str, expected: datetime) -> None:
    closed_at = _decoded(_with("ats.job.closed", closed_at=text)).data.closed_at
    assert closed_at == expected
    assert closed_at.utcoffset() is not None


def test_a_timestamp_keeps_its_offset_when_read() -> None:
    closed_at = _decoded(_with("ats.job.closed", closed_at="2026-11-20T10:30:00+01:00")).data
    assert closed_at.closed_at.utcoffset() == timezone(timedelta(hours=1)).utcoffset(None)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T09:30:00",
        "2026-11-20T09:30Z",
        "2026-11-20 09:30:00Z",
        "2026-11-20",
        "2026-11-20T09:30:00+0100",
        "2026-11-20T09:30:00+24:00",
        "2026-11-20T24:00:00Z",
        "2026-11-20T23:59:61Z",
        "2026-02-29T09:30:00Z",
        "2026-11-20T09:30:00.Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T23:59:59Z",
        "0001-01-02T00:30:00+01:00",
        "9999-12-31T00:00:00Z",
        "9999-12-30T23:30:00-01:00",
        "+2026-11-20T09:30:00Z",
        "٢٠٢٦-11-20T09:30:00Z",
        "2026-11-20T09:30:00Z\n",
        "",
    ],
)
def test_what_is_not_a_timestamp(text: str) -> None:
    assert _invalid(_with("ats.job.closed", closed_at=text)).reason.startswith("data.closed_at: ")


@pytest.mark.parametrize(
    ("event_type", "field", "text"),
    [
        ("ats.job.closed", "closed_at", "2026-11-20T09:30:00Z\n"),
        ("ats.job.closed", "closed_at", "2026-11-20T09:30:00+01:00\n"),
        ("reengage.outreach.cancelled", "outreach_id", "c7d2887b-df6a-55c3-8e79-53aa763e879f\n"),
    ],
)
def test_the_schema_also_refuses_a_patterned_value_ending_in_a_newline(
    event_type: str, field: str, text: str
) -> None:
    # Python's `re` matches `$` before a final newline: the pattern alone would let it by.
    raw = _with(event_type, **{field: text})
    assert schema_errors(event_type, json.loads(raw)) != []
    assert isinstance(decode(raw, ALL_TYPES), Invalid)


def test_the_result_types_are_frozen() -> None:
    decoded = decode(as_json(_example("ats.job.closed")), ALL_TYPES)
    assert isinstance(decoded, Decoded)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.event = decoded.event  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        decoded.event.data.tenant_id = "globex"  # type: ignore[misc]


def test_the_event_class_follows_the_type() -> None:
    assert isinstance(_decoded(as_json(_example("ats.job.opened"))), JobOpenedEvent)
    assert isinstance(_decoded(as_json(_example("ats.candidate.updated"))), CandidateUpdatedEvent)


def test_personal_data_in_bad_fields_stays_out_of_the_reason() -> None:
    raw = _with(
        "ats.candidate.updated",
        email=f"{SECRET}jane.doe@example.com" * 20,
        first_name=f"{SECRET}Jane" * 60,
        credentials=[f"{SECRET}" * 30],
        applications=[{"job_id": SECRET, "job_title": SECRET, "applied_at": SECRET}],
    )
    invalid = _invalid(raw)
    assert invalid.reason.startswith("data.email: String should have at most 254 characters; ")
    assert "data.applications[0].applied_at" in invalid.reason
    assert SECRET not in invalid.reason
    assert "jane" not in invalid.reason.lower()


# --- NUL: valid JSON, refused by PostgreSQL text, so refused here on every database --------

_NUL_MESSAGE = "String should not contain a NUL character (U+0000)"
# String leaves whose own rule (a pattern, an enumeration, a timestamp) already refuses a NUL.
_NOT_FREE_TEXT = {"specversion", "time", "tenant_id", "outreach_id", "apply_url"} | {
    "email_status",
    "reason",
    "trigger",
}


def _string_leaves(node: Any, path: str = "") -> list[str]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    leaves = []
    for key, value in items:
        here = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
        if isinstance(value, dict | list):
            leaves += _string_leaves(value, here)
        elif isinstance(value, str) and here != "type":
            leaves.append(here)
    return leaves


def _set_leaf(document: Any, path: str, change: Any) -> None:
    parts = [
        int(p) if p.isdigit() else p for p in path.replace("[", ".").replace("]", "").split(".")
    ]
    node = document
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = change(node[parts[-1]])


_NUL_CASES = [
    (event_type, leaf)
    for event_type in sorted(ALL_TYPES)
    for leaf in _string_leaves(_example(event_type))
]


# The worker's own events keep the id to what it writes: an outreach id.
_PATTERNED_IN_WORKER_EVENTS = {"id"}


@pytest.mark.parametrize(("event_type", "leaf"), _NUL_CASES)
def test_a_nul_in_any_string_read_is_refused_at_the_edge(event_type: str, leaf: str) -> None:
    event = _example(event_type)
    _set_leaf(event, leaf, lambda value: value[:1] + "\u0000" + value[1:])
    if leaf in _IGNORED_ATTRIBUTES:
        _decoded(as_json(event))  # never read nor stored, so nothing to refuse
        return
    invalid = _invalid(as_json(event))
    assert invalid.error_class == ("bad_data" if leaf.startswith("data.") else "bad_envelope")
    assert invalid.reason.startswith(f"{leaf}: ")
    name = leaf.rsplit(".", 1)[-1].split("[", maxsplit=1)[0]
    patterned = event_type in WORKER_PUBLISHES and name in _PATTERNED_IN_WORKER_EVENTS
    if name not in _NOT_FREE_TEXT and not name.endswith("_at") and not patterned:
        assert invalid.reason == f"{leaf}: {_NUL_MESSAGE}"


def test_every_kind_of_string_is_covered_by_the_nul_cases() -> None:
    leaves = {leaf for _type, leaf in _NUL_CASES}
    for expected in (
        "id",
        "source",
        "subject",
        "datacontenttype",
        "data.first_name",
        "data.credentials[0]",
        "data.applications[0].status",
        "data.preferred_credentials[0]",
        "data.reason.summary",
        "data.reason.matched_preferred_credentials[0]",
        "data.detail",
        "data.message_id",
    ):
        assert expected in leaves


def test_a_nul_among_other_errors_is_named_with_them() -> None:
    raw = _with("ats.candidate.updated", last_name="Doe\u0000", email="x" * 300)
    assert _invalid(raw).reason == (
        f"data.email: String should have at most 254 characters; data.last_name: {_NUL_MESSAGE}"
    )


def test_a_nul_in_a_field_we_ignore_is_ignored() -> None:
    event = _example("ats.job.closed") | {"traceparent": "00\u0000"}
    event["data"]["note"] = "a\u0000b"
    assert _decoded(as_json(event)) == _decoded(as_json(_example("ats.job.closed")))


def test_an_invalid_message_names_its_type_when_it_has_a_handled_one() -> None:
    """The type labels the dead letter in reengage_events_total; a message that never got as
    far as naming a type it may have leaves the label empty."""
    bad_data = _invalid(_with("ats.job.opened", title=""))
    assert (bad_data.error_class, bad_data.event_type) == ("bad_data", "ats.job.opened")
    assert _invalid(b"not json").event_type == ""
    assert _invalid(b'{"specversion": "1.0"}').event_type == ""


def test_a_mailer_report_is_taken_whatever_the_length_of_its_detail_or_message_id() -> None:
    """The contract gives neither a limit: a bounce refused over one would never be applied."""
    failed = _decoded(_with("reengage.outreach.failed", detail="550 " + "x" * 5000)).data
    assert len(failed.detail) == 5004
    sent = _decoded(_with("reengage.outreach.sent", message_id="<" + "m" * 2000 + "@x>")).data
    assert len(sent.message_id) == 2004


@pytest.mark.parametrize(
    ("padding", "length", "valid"),
    [
        ("", 254, True),
        ("", 255, False),
        (" \t", 254, True),
        ("\u3000\xa0\x85", 254, True),  # Unicode White_Space, as the models trim it
        (" \t", 255, False),
        (" " * 20_000, 255, False),  # long padding: refused without a backtracking blow-up
        (" " * 20_000, 254, True),
    ],
)
def test_the_schema_and_the_model_agree_on_the_trimmed_email_limit(
    padding: str, length: int, valid: bool
) -> None:
    address = "j" * (length - len("@example.com")) + "@example.com"
    raw = _with("ats.candidate.updated", email=f"{padding}{address}{padding}")
    by_schema = schema_errors("ats.candidate.updated", json.loads(raw)) == []
    by_model = isinstance(decode(raw, ALL_TYPES), Decoded)
    assert (by_schema, by_model) == (valid, valid)
