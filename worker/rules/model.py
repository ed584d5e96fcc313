"""The domain the rules decide over. Plain frozen values: the store builds them from rows,
the handlers from events, the tests by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EmailStatus(StrEnum):
    UNKNOWN = "unknown"
    VALID = "valid"
    BOUNCED = "bounced"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Policy:
    """Matching policy: the deployment's settings, overridden per job where the job says so."""

    min_inactive_days: int = 180
    max_inactive_days: int = 450
    cooldown_days: int = 21
    max_outreach: int = 100
    reverse_match_window_days: int = 30


@dataclass(frozen=True, slots=True)
class PolicyOverride:
    """A job's `policy` object: any field left None falls back to the deployment's value."""

    min_inactive_days: int | None = None
    max_inactive_days: int | None = None
    max_outreach: int | None = None


@dataclass(frozen=True, slots=True)
class Application:
    job_id: str
    job_title: str
    applied_at: datetime
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    tenant_id: str
    candidate_id: str
    email: str | None
    # Syntax checked once on ingest (email-validator, no DNS), stored with the candidate.
    email_syntax_valid: bool
    email_status: EmailStatus
    # The mailer reported this candidate's current address bounced or rejected.
    email_suppressed: bool
    do_not_contact: bool
    consent_expires_at: datetime | None
    last_activity_at: datetime | None
    credentials: tuple[str, ...]
    updated_at: datetime
    first_name: str | None = None
    last_name: str | None = None
    applications: tuple[Application, ...] = ()


@dataclass(frozen=True, slots=True)
class Job:
    tenant_id: str
    job_id: str
    title: str
    required_credentials: tuple[str, ...]
    opened_at: datetime
    preferred_credentials: tuple[str, ...] = ()
    location: str | None = None
    apply_url: str | None = None
    closed_at: datetime | None = None
    policy: PolicyOverride = field(default_factory=PolicyOverride)


@dataclass(frozen=True, slots=True)
class PastOutreach:
    """An outreach already requested (whatever its status now: cancelled ones still count)."""

    tenant_id: str
    job_id: str
    candidate_id: str
    requested_at: datetime
