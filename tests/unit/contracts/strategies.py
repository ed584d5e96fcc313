"""Hypothesis strategies: valid instances of every event of the contract, and hostile JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from worker.contracts.ats import (
    Application,
    CandidateErased,
    CandidateUpdated,
    JobClosed,
    JobOpened,
    JobPolicy,
)
from worker.contracts.encode import (
    OutgoingMessage,
    ats_event,
    outreach_cancelled,
    outreach_failed,
    outreach_requested,
    outreach_sent,
    outreach_skipped,
)
from worker.contracts.outreach import (
    OutreachCancelled,
    OutreachCandidate,
    OutreachJob,
    OutreachReason,
    OutreachRequested,
    PreviousApplication,
    outreach_id,
)
from worker.contracts.status import OutreachFailed, OutreachSent, OutreachSkipped

# Any Unicode scalar value JSON can carry (no lone surrogates), control characters included.
_CHARACTERS = st.characters(codec="utf-8")
# What a string of a valid event may hold: all of those but NUL, which the contract refuses.
_VALID_CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")


def text(max_size: int, *, min_size: int = 1) -> st.SearchStrategy[str]:
    """Strings that are already trimmed, so that they survive a round trip unchanged."""
    return st.text(_VALID_CHARACTERS, min_size=min_size, max_size=max_size).filter(
        lambda s: s == s.strip() and min_size <= len(s)
    )


def optional_text(max_size: int) -> st.SearchStrategy[str | None]:
    return st.none() | text(max_size)


def credentials(max_items: int) -> st.SearchStrategy[tuple[str, ...]]:
    # Few items: the limits are tested on their own; a round trip needs variety, not bulk.
    return st.lists(text(100), max_size=min(max_items, 5)).map(tuple)


_OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
timestamps = st.datetimes(
    min_value=datetime(1, 1, 3), max_value=datetime(9999, 12, 29), timezones=st.just(UTC) | _OFFSETS
)
tenant_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
entity_ids = text(128)
outreach_ids = st.uuids().map(str)
urls = st.none() | st.from_regex(r"\Ahttps?://[a-z0-9.-]{1,40}(/[A-Za-z0-9/_%.~-]{0,60})?\Z")
event_ids = st.text(_VALID_CHARACTERS, min_size=1, max_size=256)
sources = st.text(_VALID_CHARACTERS, min_size=1, max_size=200)


@st.composite
def policies(draw: st.DrawFn) -> JobPolicy | None:
    if draw(st.booleans()):
        return None
    low = draw(st.none() | st.integers(0, 3650))
    high = draw(st.none() | st.integers(low or 0, 3650))
    outreach = draw(st.none() | st.integers(0, 10000))
    return JobPolicy(min_inactive_days=low, max_inactive_days=high, max_outreach=outreach)


job_opened = st.builds(
    JobOpened,
    tenant_id=tenant_ids,
    job_id=entity_ids,
    title=text(300),
    required_credentials=credentials(50),
    # No limit on a preferred credential's length: some go past the 100 of the others.
    preferred_credentials=st.lists(text(300), max_size=5).map(tuple),
    location=optional_text(200),
    apply_url=urls,
    opened_at=timestamps,
    policy=policies(),
)
job_closed = st.builds(JobClosed, tenant_id=tenant_ids, job_id=entity_ids, closed_at=timestamps)
applications = st.builds(
    Application,
    job_id=entity_ids,
    job_title=text(300),
    applied_at=timestamps,
    status=optional_text(100),
)
candidate_updated = st.builds(
    CandidateUpdated,
    tenant_id=tenant_ids,
    candidate_id=entity_ids,
    email=optional_text(254),
    first_name=optional_text(200),
    last_name=optional_text(200),
    credentials=credentials(200),
    location=optional_text(200),
    last_activity_at=st.none() | timestamps,
    do_not_contact=st.booleans(),
    email_status=st.sampled_from(["unknown", "valid", "bounced", "invalid"]),
    consent_expires_at=st.none() | timestamps,
    applications=st.lists(applications, max_size=3).map(tuple),
    updated_at=timestamps,
)
candidate_erased = st.builds(
    CandidateErased, tenant_id=tenant_ids, candidate_id=entity_ids, erased_at=timestamps
)


def _requested(fields: dict[str, Any]) -> OutreachRequested:
    ids = (fields["tenant_id"], fields["job"].job_id, fields["candidate"].candidate_id)
    return OutreachRequested(outreach_id=outreach_id(*ids), **fields)


def _cancelled(fields: dict[str, Any]) -> OutreachCancelled:
    ids = (fields["tenant_id"], fields["job_id"], fields["candidate_id"])
    return OutreachCancelled(outreach_id=outreach_id(*ids), **fields)


# The worker's events carry the outreach_id derived from their ids (a reader refuses another).
outreach_requested_data = st.builds(
    dict,
    tenant_id=tenant_ids,
    job=st.builds(
        OutreachJob,
        job_id=entity_ids,
        title=text(300),
        apply_url=urls,
        location=optional_text(200),
    ),
    candidate=st.builds(
        OutreachCandidate,
        candidate_id=entity_ids,
        email=text(254),
        first_name=optional_text(200),
        last_name=optional_text(200),
    ),
    reason=st.builds(
        OutreachReason,
        matched_credentials=credentials(50),
        matched_preferred_credentials=credentials(50),
        last_activity_at=timestamps,
        inactive_days=st.integers(0, 3650),
        previous_application=st.none()
        | st.builds(
            PreviousApplication, job_id=entity_ids, job_title=text(300), applied_at=timestamps
        ),
        summary=text(1000),
    ),
    rank=st.integers(1, 10000),
    trigger=st.sampled_from(["job.opened", "candidate.updated"]),
    requested_at=timestamps,
).map(_requested)
_ids: dict[str, Any] = {
    "outreach_id": outreach_ids,
    "tenant_id": tenant_ids,
    "candidate_id": entity_ids,
    "job_id": entity_ids,
}
outreach_cancelled_data = st.builds(
    dict,
    reason=st.sampled_from(
        ["job_closed", "do_not_contact", "email_unusable", "consent_expired", "erased"]
    ),
    cancelled_at=timestamps,
    tenant_id=tenant_ids,
    candidate_id=entity_ids,
    job_id=entity_ids,
).map(_cancelled)
outreach_sent_data = st.builds(OutreachSent, sent_at=timestamps, message_id=text(998), **_ids)
outreach_skipped_data = st.builds(
    OutreachSkipped, reason=st.sampled_from(["cancelled", "suppressed", "duplicate"]), **_ids
)
outreach_failed_data = st.builds(
    OutreachFailed,
    reason=st.sampled_from(["bounced", "rejected", "retries_exhausted"]),
    detail=text(1000, min_size=0),
    **_ids,
)


@st.composite
def _ats_message(draw: st.DrawFn, data: st.SearchStrategy[Any]) -> OutgoingMessage:
    return ats_event(
        draw(data),
        event_id=draw(event_ids),
        source=draw(sources),
        time=draw(st.none() | timestamps),
    )


# One strategy of encoded messages per CloudEvents type.
MESSAGES: dict[str, st.SearchStrategy[OutgoingMessage]] = {
    "ats.job.opened": _ats_message(job_opened),
    "ats.job.closed": _ats_message(job_closed),
    "ats.candidate.updated": _ats_message(candidate_updated),
    "ats.candidate.erased": _ats_message(candidate_erased),
    "reengage.outreach.requested": st.builds(
        outreach_requested, outreach_requested_data, source=sources
    ),
    "reengage.outreach.cancelled": st.builds(
        outreach_cancelled, outreach_cancelled_data, source=sources
    ),
    "reengage.outreach.sent": st.builds(outreach_sent, outreach_sent_data, source=sources),
    "reengage.outreach.skipped": st.builds(
        outreach_skipped, outreach_skipped_data, time=timestamps, source=sources
    ),
    "reengage.outreach.failed": st.builds(
        outreach_failed, outreach_failed_data, time=timestamps, source=sources
    ),
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(_CHARACTERS, max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(_CHARACTERS, max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

# Values that are personal data if they ever show up in a reason.
SECRET = "S3CR3T"
secret_values = st.one_of(
    st.just(f"{SECRET}jane.doe@example.com"),
    st.just(f"  {SECRET} Jane  "),
    st.just(f"{SECRET}" * 200),
    st.lists(st.just(f"{SECRET}-credential" * 20), min_size=1, max_size=60),
    st.just({"job_id": SECRET, "applied_at": SECRET}),
    st.integers(),
    st.booleans(),
    st.none(),
)


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
