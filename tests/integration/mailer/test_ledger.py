"""The ledger's transitions on both databases: each is conditional, so only one of two
competitors can take it, and a late event cannot undo a later state."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from worker.mailer import ledger
from worker.mailer.ledger import MailState, OutreachKey

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
KEY = OutreachKey("03c6d09b-cef2-526b-b012-cc61eb08ee0b", "acme", "J-1", "C-1")


def _state(engine: Engine) -> MailState | None:
    with engine.connect() as connection:
        entry = ledger.get(connection, KEY.outreach_id)
    return None if entry is None else entry.state


def test_one_claim_wins_and_only_its_holder_finishes_it(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        ledger.record_requested(c, KEY, NOW)  # a redelivery changes nothing
    with ledger_engine.begin() as c:
        assert ledger.claim(c, KEY.outreach_id, "a", "<m>", NOW)
        assert not ledger.claim(c, KEY.outreach_id, "b", "<m>", NOW)
    with ledger_engine.begin() as c:
        assert not ledger.mark_sent(c, KEY.outreach_id, "b", NOW)
        assert not ledger.release(c, KEY.outreach_id, "b")
        assert not ledger.record_cancelled(c, KEY, NOW)  # too late: it may be on its way
        assert ledger.mark_sent(c, KEY.outreach_id, "a", NOW)
    with ledger_engine.begin() as c:
        entry = ledger.get(c, KEY.outreach_id)
        assert entry is not None
        assert (entry.state, entry.attempts, entry.message_id) == (MailState.SENT, 1, "<m>")
        assert not ledger.resolve_abandoned(c, entry, NOW)


def test_a_released_claim_can_be_taken_again(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        assert ledger.claim(c, KEY.outreach_id, "a", "<m>", NOW)
        assert ledger.release(c, KEY.outreach_id, "a")
        assert ledger.claim(c, KEY.outreach_id, "b", "<m>", NOW)
        entry = ledger.get(c, KEY.outreach_id)
    assert entry is not None and entry.attempts == 2 and entry.claimed_by == "b"


def test_cancellation_before_the_claim_skips_and_blocks_it(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        assert ledger.record_cancelled(c, KEY, NOW)
        assert not ledger.record_cancelled(c, KEY, NOW)
        assert not ledger.claim(c, KEY.outreach_id, "a", "<m>", NOW)
    assert _state(ledger_engine) is MailState.SKIPPED


def test_a_cancellation_seen_first_keeps_a_later_request_from_being_sent(
    ledger_engine: Engine,
) -> None:
    with ledger_engine.begin() as c:
        assert ledger.record_cancelled(c, KEY, NOW)
        ledger.record_requested(c, KEY, NOW)
        assert not ledger.claim(c, KEY.outreach_id, "a", "<m>", NOW)
        entry = ledger.get(c, KEY.outreach_id)
    assert entry is not None and (entry.state, entry.reason) == (MailState.SKIPPED, "cancelled")


def test_an_abandoned_claim_is_resolved_as_failed_once(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        assert ledger.claim(c, KEY.outreach_id, "dead", "<m>", NOW)
        entry = ledger.get(c, KEY.outreach_id)
        assert entry is not None
        assert ledger.resolve_abandoned(c, entry, NOW)
        assert not ledger.resolve_abandoned(c, entry, NOW)
        assert not ledger.mark_sent(c, KEY.outreach_id, "dead", NOW)  # the claimant lost it
        final = ledger.get(c, KEY.outreach_id)
    assert final is not None
    assert (final.state, final.reason, final.detail) == (
        MailState.FAILED,
        "retries_exhausted",
        ledger.UNKNOWN_DELIVERY,
    )


def test_failures_before_the_claim_come_from_pending_only(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        assert ledger.mark_failed(
            c, KEY.outreach_id, reason="rejected", detail="550", now=NOW, claimant=None
        )
        assert not ledger.mark_failed(
            c, KEY.outreach_id, reason="rejected", detail="550", now=NOW, claimant=None
        )
    assert _state(ledger_engine) is MailState.FAILED
