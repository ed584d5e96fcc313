"""Every eligibility rule and boundary, table-driven, on SQLite and PostgreSQL.

Each case stores one candidate (the default is eligible) and one job, runs the SQL matcher,
and checks the outcome; the reference implementation must agree with the expectation too, so
the table pins both to the spec.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from tests.integration.store.builders import DAY, TENANT, T, job, record_outreach, snapshot
from worker.rules.eligibility import effective_policy
from worker.rules.model import EmailStatus, Job, Policy, PolicyOverride
from worker.rules.normalise import norm
from worker.rules.reference import reference_match
from worker.store.candidates import (
    CandidateSnapshot,
    load_candidates,
    upsert_candidates,
)
from worker.store.jobs import load_job, upsert_job
from worker.store.matcher import match_job
from worker.store.outreach import past_outreach
from worker.store.suppression import suppress_email

MICRO = timedelta(microseconds=1)
# The stored key of a credential too long for a row, spelled as a credential of its own.
LONG_CREDENTIAL = "\ufdfa" * 100
LONG_CREDENTIAL_DIGEST = "SHA256:" + hashlib.sha256(norm(LONG_CREDENTIAL).encode()).hexdigest()


@dataclass(frozen=True)
class Earlier:
    """An outreach requested before this match."""

    job_id: str
    requested_at: datetime
    candidate_id: str = "c-1"
    status: str = "requested"
    tenant_id: str = TENANT


@dataclass(frozen=True)
class Case:
    name: str
    expected: bool
    candidate: CandidateSnapshot = field(default_factory=snapshot)
    job: Job = field(default_factory=job)
    earlier: tuple[Earlier, ...] = ()
    suppressed: bool = False


def _active(days_ago: timedelta) -> CandidateSnapshot:
    return snapshot(last_activity_at=T - days_ago)


CASES = [
    Case("baseline: dormant, contactable, qualified", True),
    # Rule 1
    Case("other tenant", False, snapshot(tenant_id="globex")),
    # Rule 2
    Case("job closed after it opened", False, job=job(closed_at=T + timedelta(hours=1))),
    Case("job closed at the instant it opened", False, job=job(closed_at=T)),
    Case("job reopened after an earlier close", True, job=job(closed_at=T - DAY)),
    # Rule 3
    Case("do not contact", False, snapshot(do_not_contact=True)),
    # Rule 4
    Case("missing email", False, snapshot(email=None)),
    Case("blank email", False, snapshot(email="   ")),
    Case("syntactically invalid email", False, snapshot(email="not-an-email")),
    Case("email bounced", False, snapshot(email_status=EmailStatus.BOUNCED)),
    Case("email invalid", False, snapshot(email_status=EmailStatus.INVALID)),
    Case("email status unknown is usable", True, snapshot(email_status=EmailStatus.UNKNOWN)),
    Case("mailer reported the address bounced", False, suppressed=True),
    # Rule 5
    Case("consent expires exactly at T", False, snapshot(consent_expires_at=T)),
    Case("consent expires just after T", True, snapshot(consent_expires_at=T + MICRO)),
    Case("consent expired before T", False, snapshot(consent_expires_at=T - DAY)),
    # Rule 6
    Case("no activity recorded", False, snapshot(last_activity_at=None)),
    Case("179 days inactive", False, _active(179 * DAY)),
    Case("a microsecond short of 180 days", False, _active(180 * DAY - MICRO)),
    Case("exactly 180 days inactive", True, _active(180 * DAY)),
    Case("exactly 450 days inactive", True, _active(450 * DAY)),
    Case("450 days and 23 hours is still 450", True, _active(451 * DAY - MICRO)),
    Case("451 days inactive", False, _active(451 * DAY)),
    Case(
        "activity at T with a zero minimum",
        True,
        _active(timedelta(0)),
        job(policy=PolicyOverride(min_inactive_days=0)),
    ),
    Case(
        "activity after T is negative days",
        False,
        _active(-MICRO),
        job(policy=PolicyOverride(min_inactive_days=0)),
    ),
    Case(
        "job overrides the window",
        True,
        _active(30 * DAY),
        job(policy=PolicyOverride(min_inactive_days=30, max_inactive_days=60)),
    ),
    Case(
        "window emptied by an override",
        False,
        job=job(policy=PolicyOverride(min_inactive_days=500)),
    ),
    # Rule 7
    Case("full-width credentials", True, snapshot(credentials=("ＰＹＴＨＯＮ", "ＳＱＬ"))),
    Case("mixed-case credentials", True, snapshot(credentials=("pYtHoN", "Sql"))),
    Case("padded credentials", True, snapshot(credentials=("  python ", "\tSQL\n"))),
    Case(
        "inner whitespace collapses",
        True,
        snapshot(credentials=("Machine   Learning",)),
        job(required_credentials=("machine learning",)),
    ),
    Case(
        "casefold: Straße is STRASSE",
        True,
        snapshot(credentials=("STRASSE",)),
        job(required_credentials=("Straße",)),
    ),
    Case("full-width job spelling", True, job=job(required_credentials=("ＰＹＴＨＯＮ", " sql "))),
    Case(
        "job repeats a credential in two spellings",
        True,
        job=job(required_credentials=("python", "PYTHON", "sql")),
    ),
    Case("one required credential missing", False, snapshot(credentials=("python",))),
    # The contract trims Unicode White_Space; norm's strip() also takes U+001C-U+001F.
    Case(
        "a requirement that normalises to nothing is not no requirement",
        False,
        snapshot(credentials=("python", "sql")),
        job(required_credentials=("python", "\x1c")),
    ),
    Case(
        "a requirement that normalises to nothing, met by a credential that does too",
        True,
        snapshot(credentials=("python", "sql", "\x1f\x1e")),
        job(required_credentials=("python", "\x1c")),
    ),
    # 100 characters on the wire, 1,800 once NFKC has expanded each: stored as a digest
    Case(
        "a credential that normalises past what a row holds, held",
        True,
        snapshot(credentials=("Python", "SQL", "\ufdfa" * 100)),
        job(required_credentials=("python", "\ufdfa" * 100)),
    ),
    Case(
        "a credential that normalises past what a row holds, another one",
        False,
        snapshot(credentials=("Python", "SQL", "\ufdfa" * 100)),
        job(required_credentials=("python", "\ufdfa" * 99)),
    ),
    Case(
        "a credential spelled as the digest of the long one required",
        False,
        snapshot(credentials=("Python", "SQL", LONG_CREDENTIAL_DIGEST)),
        job(required_credentials=("python", LONG_CREDENTIAL)),
    ),
    Case(
        "the long credential, where the digest's spelling is required",
        False,
        snapshot(credentials=("Python", "SQL", LONG_CREDENTIAL)),
        job(required_credentials=("python", LONG_CREDENTIAL_DIGEST)),
    ),
    Case(
        "a credential spelled as a digest, held",
        True,
        snapshot(credentials=("Python", "SQL", LONG_CREDENTIAL_DIGEST.lower())),
        job(required_credentials=("python", LONG_CREDENTIAL_DIGEST)),
    ),
    Case(
        "five required credentials, all held",
        True,
        snapshot(credentials=("A", "b", "Ｃ", " d ", "E", "f")),
        job(required_credentials=("a", "B", "c", "D", "e")),
    ),
    Case(
        "five required credentials, the last one missing",
        False,
        snapshot(credentials=("a", "b", "c", "d", "f")),
        job(required_credentials=("a", "b", "c", "d", "e")),
    ),
    Case(
        "five required credentials, the first one missing",
        False,
        snapshot(credentials=("b", "c", "d", "e")),
        job(required_credentials=("a", "b", "c", "d", "e")),
    ),
    Case("spaces inside a word differ", False, snapshot(credentials=("python", "s q l"))),
    Case(
        "no required credentials passes everyone",
        True,
        snapshot(credentials=()),
        job(required_credentials=()),
    ),
    # Rule 8
    Case(
        "already requested for this job, long ago, cancelled",
        False,
        earlier=(Earlier("j-1", T - 400 * DAY, status="cancelled"),),
    ),
    # Rule 9
    Case("cooldown: exactly 21 days ago is outside", True, earlier=(Earlier("j-0", T - 21 * DAY),)),
    Case(
        "cooldown: a microsecond inside 21 days",
        False,
        earlier=(Earlier("j-0", T - 21 * DAY + MICRO),),
    ),
    Case("cooldown: requested at T itself", False, earlier=(Earlier("j-0", T),)),
    Case(
        "cooldown: cancelled outreach still counts",
        False,
        earlier=(Earlier("j-0", T - 5 * DAY, status="cancelled"),),
    ),
    Case(
        "cooldown: a request just after T blocks (a later job decided first)",
        False,
        earlier=(Earlier("j-0", T + MICRO),),
    ),
    Case(
        "cooldown: a microsecond inside 21 days after",
        False,
        earlier=(Earlier("j-0", T + 21 * DAY - MICRO),),
    ),
    Case(
        "cooldown: exactly 21 days after is outside",
        True,
        earlier=(Earlier("j-0", T + 21 * DAY),),
    ),
    Case(
        "cooldown: another tenant's outreach does not count",
        True,
        earlier=(Earlier("j-0", T - DAY, tenant_id="globex"),),
    ),
    # The cap
    Case(
        "cap reached by earlier requests",
        False,
        job=job(policy=PolicyOverride(max_outreach=1)),
        earlier=(Earlier("j-1", T - DAY, candidate_id="c-0"),),
    ),
    Case("cap of zero", False, job=job(policy=PolicyOverride(max_outreach=0))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule(engine: Engine, case: Case) -> None:
    defaults = Policy()
    with engine.begin() as connection:
        upsert_candidates(connection, [case.candidate])
        if case.suppressed:
            suppress_email(connection, case.candidate.tenant_id, case.candidate.candidate_id)
        upsert_job(connection, case.job)
        for earlier in case.earlier:
            record_outreach(
                connection,
                earlier.job_id,
                earlier.candidate_id,
                earlier.requested_at,
                tenant_id=earlier.tenant_id,
                status=earlier.status,
            )
        history = past_outreach(connection, TENANT)
        stored = load_candidates(
            connection, case.candidate.tenant_id, [case.candidate.candidate_id]
        )
        stored_job = load_job(connection, TENANT, case.job.job_id)
        requested = match_job(connection, TENANT, case.job.job_id, defaults)

    expected = ["c-1"] if case.expected else []
    assert [r.candidate_id for r in requested] == expected
    assert stored_job is not None
    reference = reference_match(
        stored_job, T, effective_policy(stored_job, defaults), stored.values(), history
    )
    assert [d.candidate_id for d in reference] == expected
