"""Cancellation decisions (REENGAGEMENT.md "Cancellation") as pure functions.

Which pending outreach to cancel is the store's business (status `requested`, not yet reported
sent); this module says whether a candidate's new state calls for cancelling, and why.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from worker.rules.eligibility import consent_expired, email_problem
from worker.rules.model import Candidate


class CancellationReason(StrEnum):
    """`reason` of `reengage.outreach.cancelled` (EVENTS.md)."""

    JOB_CLOSED = "job_closed"
    DO_NOT_CONTACT = "do_not_contact"
    EMAIL_UNUSABLE = "email_unusable"
    CONSENT_EXPIRED = "consent_expired"
    ERASED = "erased"


def cancellation_reason(
    updated: Candidate, at: datetime | None = None
) -> CancellationReason | None:
    """Why the candidate's pending outreach must be cancelled after this update, or None.

    Decided on the new state alone, not on the change from the old one: a pending outreach to
    a candidate who is now do-not-contact must go whatever the previous snapshot said, and
    cancelling is a no-op for outreach already cancelled. The reasons are checked in the
    eligibility rules' order, so one update gives one reason. Consent counts as expired when it
    ends at or before `at` (default: the snapshot's `updated_at`, as the spec says it is checked
    when the candidate is updated). A candidate whose address a mailer reported
    (`email_suppressed`) is `email_unusable` here too; the report itself cancels with that
    reason directly (ingest/status.py), without asking this function.
    """
    moment = updated.updated_at if at is None else at
    if updated.do_not_contact:
        return CancellationReason.DO_NOT_CONTACT
    if email_problem(updated) is not None:
        return CancellationReason.EMAIL_UNUSABLE
    if consent_expired(updated, moment):
        return CancellationReason.CONSENT_EXPIRED
    return None
