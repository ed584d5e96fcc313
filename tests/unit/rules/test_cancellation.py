"""Which reason cancels a candidate's pending outreach after an update."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules.factories import DAY, MICROSECOND, T, make_candidate
from worker.rules.cancellation import CancellationReason, cancellation_reason
from worker.rules.model import EmailStatus

R = CancellationReason


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),
        ({"do_not_contact": True}, R.DO_NOT_CONTACT),
        ({"do_not_contact": True, "email": None}, R.DO_NOT_CONTACT),
        ({"email": None}, R.EMAIL_UNUSABLE),
        ({"email": "not-an-address"}, R.EMAIL_UNUSABLE),
        ({"email_status": EmailStatus.BOUNCED}, R.EMAIL_UNUSABLE),
        ({"email_status": EmailStatus.INVALID}, R.EMAIL_UNUSABLE),
        ({"email_suppressed": True}, R.EMAIL_UNUSABLE),
        ({"email_status": EmailStatus.VALID}, None),
        ({"consent_expires_at": T}, R.CONSENT_EXPIRED),  # updated_at is T
        ({"consent_expires_at": T - 30 * DAY}, R.CONSENT_EXPIRED),
        ({"consent_expires_at": T + MICROSECOND}, None),
        ({"consent_expires_at": T, "email": None}, R.EMAIL_UNUSABLE),
        # Inactivity or credentials changing does not cancel what was requested.
        ({"last_activity_at": T, "credentials": ()}, None),
    ],
)
def test_cancellation_reason(changes: dict[str, Any], expected: CancellationReason | None) -> None:
    updated = make_candidate(updated_at=T, **changes)
    assert cancellation_reason(updated) == expected


def test_consent_checked_at_an_explicit_time() -> None:
    updated = make_candidate(updated_at=T, consent_expires_at=T + DAY)
    assert cancellation_reason(updated) is None
    assert cancellation_reason(updated, at=T + DAY) is R.CONSENT_EXPIRED


def test_reasons_are_the_wire_values() -> None:
    assert [r.value for r in R] == [
        "job_closed",
        "do_not_contact",
        "email_unusable",
        "consent_expired",
        "erased",
    ]
