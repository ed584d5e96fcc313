"""Status events come from the ledger row alone: the same row, the same event bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from worker.contracts.decode import Decoded, decode
from worker.mailer.ledger import LedgerEntry, MailState, OutreachKey
from worker.mailer.status import status_event

KEY = OutreachKey("03c6d09b-cef2-526b-b012-cc61eb08ee0b", "acme", "J-1", "C-1")
AT = datetime(2026, 11, 20, 10, 0, 1, tzinfo=UTC)
TYPES = frozenset(
    {"reengage.outreach.sent", "reengage.outreach.skipped", "reengage.outreach.failed"}
)


def _entry(state: MailState, reason: str | None = None, detail: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        key=KEY,
        state=state,
        reason=reason,
        detail=detail,
        message_id=f"<{KEY.outreach_id}@acme.example>",
        attempts=1,
        claimed_by="host:1:abc",
        finished_at=AT,
    )


def test_sent() -> None:
    message = status_event(_entry(MailState.SENT))
    assert message.key == b"acme:C-1"
    result = decode(message.value, TYPES)
    assert isinstance(result, Decoded)
    event = result.event
    assert event.type == "reengage.outreach.sent"
    assert event.source == "urn:reengage:mailer"
    assert event.subject == "candidate/C-1"
    assert event.data.sent_at == AT  # type: ignore[union-attr]
    assert event.data.message_id == f"<{KEY.outreach_id}@acme.example>"  # type: ignore[union-attr]


def test_skipped_and_failed_carry_reason_and_detail() -> None:
    skipped = decode(status_event(_entry(MailState.SKIPPED, "cancelled")).value, TYPES)
    failed = decode(status_event(_entry(MailState.FAILED, "rejected", "550 no")).value, TYPES)
    assert isinstance(skipped, Decoded) and isinstance(failed, Decoded)
    assert skipped.event.data.reason == "cancelled"  # type: ignore[union-attr]
    assert (failed.event.data.reason, failed.event.data.detail) == ("rejected", "550 no")  # type: ignore[union-attr]
    assert failed.event.time == AT


def test_the_same_row_gives_the_same_bytes_and_each_status_type_its_own_id() -> None:
    sent = status_event(_entry(MailState.SENT))
    assert status_event(_entry(MailState.SENT)).value == sent.value
    failed = status_event(_entry(MailState.FAILED, "retries_exhausted", "x"))
    assert sent.event.id != failed.event.id


@pytest.mark.parametrize("state", [MailState.PENDING, MailState.SENDING])
def test_unfinished_rows_have_no_status(state: MailState) -> None:
    with pytest.raises(ValueError, match="not finished"):
        status_event(_entry(state))
