"""Builders for the rules' values: a baseline that is eligible, changed one field at a time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from worker.rules.email_syntax import email_syntax_valid
from worker.rules.model import Candidate, EmailStatus, Job, PastOutreach, Policy

T = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)
TENANT = "acme"
DEFAULT_POLICY = Policy()


def make_job(**changes: Any) -> Job:
    base = Job(
        tenant_id=TENANT,
        job_id="J1",
        title="Senior Data Analyst",
        required_credentials=("SQL", "Tableau"),
        preferred_credentials=("Python", "dbt"),
        opened_at=T,
    )
    return dataclasses.replace(base, **changes)


def make_candidate(**changes: Any) -> Candidate:
    """Eligible for `make_job()` at T unless changed. The email's syntax flag follows the
    address (as ingest would set it) unless `email_syntax_valid` is given."""
    if "email" in changes and "email_syntax_valid" not in changes:
        changes["email_syntax_valid"] = email_syntax_valid(changes["email"])
    base = Candidate(
        tenant_id=TENANT,
        candidate_id="C1",
        email="jane.doe@example.com",
        email_syntax_valid=True,
        email_status=EmailStatus.UNKNOWN,
        email_suppressed=False,
        do_not_contact=False,
        consent_expires_at=None,
        last_activity_at=T - 200 * DAY,
        credentials=("sql", "tableau"),
        updated_at=T - DAY,
        first_name="Jane",
        last_name="Doe",
    )
    return dataclasses.replace(base, **changes)


def outreach(
    job_id: str, requested_at: datetime, candidate_id: str = "C1", tenant_id: str = TENANT
) -> PastOutreach:
    return PastOutreach(tenant_id, job_id, candidate_id, requested_at)
