"""No valid input can make the outreach event impossible to encode.

`reengage.outreach.requested` carries text derived from a job and a candidate (titles, names,
credentials, the summary sentence); its own limits must hold for every job and candidate the
contract accepts, or a valid `ats.job.opened` would be dead-lettered when its outreach is built.
These tests take the path the worker takes: wire bytes, decode, the rules' values, the outbox
message (worker/ingest/outreach_messages.py), and decode that again as a mailer would.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.contracts.strategies import candidate_updated, job_opened
from tests.unit.contracts.support import schema_errors
from worker.contracts.ats import CandidateUpdated, JobOpened
from worker.contracts.decode import MAX_MESSAGE_BYTES, Decoded, decode
from worker.contracts.outreach import OutreachRequested, outreach_id
from worker.ingest.outreach_messages import requested_message
from worker.ingest.translate import job_of, snapshot_of
from worker.rules.email_syntax import email_syntax_valid
from worker.rules.model import Candidate, Job
from worker.rules.shorten import ELLIPSIS
from worker.store.matcher import Requested, Trigger

T = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
REQUESTED = "reengage.outreach.requested"
# 254 characters, and a valid address: the longest email a candidate can be contacted at.
LONGEST_EMAIL = f"{'l' * 64}@{'d' * 63}.{'e' * 63}.{'f' * 61}"


def _words(letter: str, length: int) -> str:
    """Exactly `length` characters: words of seven `letter`s, one space apart."""
    return ((letter * 7 + " ") * length)[: length - 1] + letter


def _wire(event_type: str, data: dict[str, Any]) -> bytes:
    event = {"specversion": "1.0", "id": "e-1", "source": "urn:ats:test", "type": event_type}
    raw = json.dumps({**event, "data": data}, ensure_ascii=False).encode()
    assert len(raw) <= MAX_MESSAGE_BYTES
    return raw


def _decoded(raw: bytes, event_type: str) -> Any:
    result = decode(raw, frozenset({event_type}))
    assert isinstance(result, Decoded), result
    return result.event.data


def _largest_pair(letter: str) -> tuple[bytes, bytes]:
    """A job and a candidate with every field that reaches the outreach event at its limit.

    The 50 preferred credentials the candidate has are spelled by the job with long runs of
    spaces and "SS" for the candidate's "ß" (the same credential once normalised), so each is
    far longer than any credential of the candidate: the longest spelling that can match.
    """
    required = [f"R{n:02d}{_words(letter, 97)}" for n in range(50)]
    held_preferred = [f"P{n:02d} {_words('ß', 96)}" for n in range(50)]
    spelled_preferred = [c.replace("ß", "SS").replace(" ", " " * 1000) for c in held_preferred]
    others = [f"O{n:03d}{_words(letter, 96)}" for n in range(100)]
    job = {
        "tenant_id": "t" * 64,
        "job_id": _words(letter, 128),
        "title": _words(letter, 300),
        "required_credentials": required,
        "preferred_credentials": spelled_preferred,
        "location": _words(letter, 200),
        "apply_url": "https://" + "h" * 2040,
        "opened_at": "2026-11-20T09:30:00Z",
        "policy": {"min_inactive_days": 0, "max_inactive_days": 3650, "max_outreach": 10000},
    }
    applications = [
        {
            "job_id": f"{n:03d}" + _words(letter, 125),
            "job_title": _words(letter, 300),
            "applied_at": (T - timedelta(days=n + 1)).isoformat(),
            "status": _words(letter, 100),
        }
        for n in range(100)
    ]
    candidate = {
        "tenant_id": "t" * 64,
        "candidate_id": _words(letter, 128),
        "email": LONGEST_EMAIL,
        "first_name": _words(letter, 200),
        "last_name": _words(letter, 200),
        "credentials": [*required, *held_preferred, *others],
        "location": _words(letter, 200),
        "last_activity_at": (T - timedelta(days=3650)).isoformat(),
        "applications": applications,
        "updated_at": "2026-11-20T09:30:00Z",
    }
    return _wire("ats.job.opened", job), _wire("ats.candidate.updated", candidate)


def _candidate(data: CandidateUpdated) -> Candidate:
    """The candidate as the store hands it to the handlers after storing this snapshot."""
    snapshot = snapshot_of(data)
    fields = {f.name: getattr(snapshot, f.name) for f in dataclasses.fields(snapshot)}
    del fields["location"]
    return Candidate(
        **fields, email_syntax_valid=email_syntax_valid(data.email), email_suppressed=False
    )


def _outreach(job: Job, candidate: Candidate, rank: int) -> tuple[bytes, OutreachRequested]:
    requested = Requested(
        outreach_id=outreach_id(job.tenant_id, job.job_id, candidate.candidate_id),
        tenant_id=job.tenant_id,
        job_id=job.job_id,
        candidate_id=candidate.candidate_id,
        rank=rank,
        trigger=Trigger.JOB_OPENED,
        requested_at=T,
        preferred_matched=len(job.preferred_credentials),
        inactive_days=3650,
    )
    message = requested_message(
        requested, candidate, job, topic="reengage.outreach", source="urn:reengage:worker"
    )
    raw = message.payload.encode()
    data = _decoded(raw, REQUESTED)
    assert isinstance(data, OutreachRequested)
    return raw, data


@pytest.mark.parametrize("letter", ["a", "𝔞"], ids=["ascii", "four-byte"])
def test_the_largest_valid_job_and_candidate_give_a_valid_outreach(letter: str) -> None:
    raw_job, raw_candidate = _largest_pair(letter)
    job = job_of(_decoded(raw_job, "ats.job.opened"))
    candidate = _candidate(_decoded(raw_candidate, "ats.candidate.updated"))

    raw, data = _outreach(job, candidate, rank=10000)

    assert len(raw) <= MAX_MESSAGE_BYTES
    assert schema_errors(REQUESTED, json.loads(raw)) == []
    reason = data.reason
    assert reason.matched_credentials == job.required_credentials
    assert len(reason.matched_preferred_credentials) == 50
    for shortened in reason.matched_preferred_credentials:
        assert len(shortened) <= 100 and shortened.endswith(ELLIPSIS)
        assert shortened.startswith("P")
        assert "  " not in shortened
    assert len(reason.summary) <= 1000
    assert reason.summary.startswith(f"You applied for {_words(letter, 300)} in November 2026;")
    assert reason.summary.endswith(" and 48 more, which are on your profile.")
    assert reason.previous_application is not None
    assert reason.previous_application.job_title == _words(letter, 300)
    assert (reason.inactive_days, data.rank) == (3650, 10000)
    assert data.candidate.email == LONGEST_EMAIL


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    job_data=job_opened,
    candidate_data=candidate_updated,
    days=st.integers(0, 3650),
    rank=st.integers(1, 10000),
)
def test_any_valid_job_and_candidate_give_a_valid_outreach(
    job_data: JobOpened, candidate_data: CandidateUpdated, days: int, rank: int
) -> None:
    job = job_of(job_data)
    # What eligibility guarantees before a request: same tenant, an address, a dormancy in
    # the window; and the candidate holds the job's credentials.
    candidate = dataclasses.replace(
        _candidate(candidate_data),
        tenant_id=job.tenant_id,
        email=candidate_data.email or "someone@example.com",
        last_activity_at=T - timedelta(days=days),
        credentials=(*job.required_credentials, *job.preferred_credentials),
    )
    _raw, data = _outreach(job, candidate, rank)
    assert len(data.reason.summary) <= 1000


def test_a_past_application_title_of_any_length_is_named_shortened() -> None:
    """The contract gives an application's title no limit; the outreach names it in at most
    300 characters, and the snapshot (whatever else it says) is never refused for it."""
    raw_job, raw_candidate = _largest_pair("a")
    candidate_data = json.loads(raw_candidate)
    latest = candidate_data["data"]["applications"][0]
    latest["job_title"] = "Senior " + "Data " * 2000 + "Analyst"
    latest["status"] = "withdrawn " * 500
    candidate = _candidate(_decoded(json.dumps(candidate_data).encode(), "ats.candidate.updated"))
    job = job_of(_decoded(raw_job, "ats.job.opened"))

    raw, data = _outreach(job, candidate, rank=1)

    assert schema_errors(REQUESTED, json.loads(raw)) == []
    previous = data.reason.previous_application
    assert previous is not None
    assert len(previous.job_title) <= 300
    assert previous.job_title.startswith("Senior Data Data")
    assert previous.job_title.endswith(ELLIPSIS)
    assert data.reason.summary.startswith("You applied for Senior Data Data")
