"""The ledger's transitions on both databases: each is conditional, so only one of two
competitors can take it, and a late event cannot undo a later state. Then the claim's COMMIT
handed over together with the end of data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import Engine, text

from worker.mailer import ledger
from worker.mailer.handover import Handover, commit_then
from worker.mailer.ledger import MailState, OutreachKey
from worker.store.engine import create_store_engine
from worker.store.versioning import migrate_engine

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
KEY = OutreachKey("03c6d09b-cef2-526b-b012-cc61eb08ee0b", "acme", "J-1", "C-1")


def _state(engine: Engine) -> MailState | None:
    with engine.connect() as connection:
        entry = ledger.get(connection, KEY.outreach_id)
    return None if entry is None else entry.state


def test_one_claim_wins_and_only_its_holder_finishes_it(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as c:
        assert ledger.record_requested(c, KEY, NOW)
        assert not ledger.record_requested(c, KEY, NOW)  # a redelivery changes nothing
    with ledger_engine.begin() as c:
        assert ledger.claim(c, KEY.outreach_id, "a", "<m>", NOW)
        assert not ledger.claim(c, KEY.outreach_id, "b", "<m>", NOW)
    with ledger_engine.begin() as c:
        assert not ledger.mark_sent(c, KEY.outreach_id, "b", "<m>", NOW)
        assert not ledger.release(c, KEY.outreach_id, "b")
        assert not ledger.record_cancelled(c, KEY, NOW)  # too late: it may be on its way
        assert ledger.mark_sent(c, KEY.outreach_id, "a", "<m>", NOW)
    with ledger_engine.begin() as c:
        entry = ledger.get(c, KEY.outreach_id)
        assert entry is not None
        assert (entry.state, entry.attempts, entry.message_id) == (MailState.SENT, 1, "<m>")
        assert not ledger.resolve_abandoned(c, entry)


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


@pytest.mark.parametrize(
    "named",
    [
        OutreachKey(KEY.outreach_id, "globex", KEY.job_id, KEY.candidate_id),
        OutreachKey(KEY.outreach_id, KEY.tenant_id, "J-2", KEY.candidate_id),
        OutreachKey(KEY.outreach_id, KEY.tenant_id, KEY.job_id, "C-2"),
    ],
)
def test_a_cancellation_naming_other_ids_leaves_the_outreach_pending(
    ledger_engine: Engine, named: OutreachKey
) -> None:
    """As the worker ignores a report whose ids disagree: another tenant's cancellation, even
    with this outreach's id, must not stop this email."""
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        assert not ledger.record_cancelled(c, named, NOW)
        assert ledger.skip_pending(c, [named], NOW) == set()
    assert _state(ledger_engine) is MailState.PENDING


def test_skip_pending_skips_only_pending_rows_and_remembers_no_unknown_outreach(
    ledger_engine: Engine,
) -> None:
    """The read-ahead's step: claimed and final rows stay, unknown outreach get no row."""
    pending, claimed, unknown = (
        OutreachKey(f"00000000-0000-5000-8000-00000000000{n}", "acme", "J-1", f"C-{n}")
        for n in range(3)
    )
    with ledger_engine.begin() as c:
        for key in (pending, claimed):
            ledger.record_requested(c, key, NOW)
        assert ledger.claim(c, claimed.outreach_id, "a", "<m>", NOW)
        keys = [pending, claimed, unknown]
        assert ledger.skip_pending(c, keys, NOW) == {pending.outreach_id}
        assert ledger.skip_pending(c, keys, NOW) == set()
        states = {k.outreach_id: ledger.get(c, k.outreach_id) for k in (pending, claimed, unknown)}
    assert [None if e is None else (e.state, e.reason) for e in states.values()] == [
        (MailState.SKIPPED, "cancelled"),
        (MailState.SENDING, None),
        None,
    ]


def test_an_abandoned_claim_is_resolved_as_sent_at_the_claim_time_once(
    ledger_engine: Engine,
) -> None:
    later = NOW + timedelta(minutes=5)
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        assert ledger.claim(c, KEY.outreach_id, "dead", "<m>", NOW)
        entry = ledger.get(c, KEY.outreach_id)
        assert entry is not None
        assert ledger.resolve_abandoned(c, entry)
        assert not ledger.resolve_abandoned(c, entry)
        # the claimant lost it: its own late reply changes nothing
        assert not ledger.mark_sent(c, KEY.outreach_id, "dead", "<m>", later)
        assert not ledger.mark_failed(
            c, KEY.outreach_id, reason="rejected", detail="550", now=later, claimant="dead"
        )
        final = ledger.get(c, KEY.outreach_id)
    assert final is not None
    assert (final.state, final.reason, final.message_id, final.finished_at) == (
        MailState.SENT,
        None,
        "<m>",
        NOW,
    )


def test_an_unconfirmed_claim_is_finished_from_pending_by_its_claimant(
    ledger_engine: Engine,
) -> None:
    """The claim's COMMIT went unconfirmed after the end of data went out: the row may still
    be `pending`, and the reply the claimant got is recorded on it all the same."""
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
        assert ledger.mark_sent(c, KEY.outreach_id, "a", "<m>", NOW)
        entry = ledger.get(c, KEY.outreach_id)
    assert entry is not None
    assert (entry.state, entry.message_id) == (MailState.SENT, "<m>")


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


# --- handing the claim's COMMIT over with the end of data (worker/mailer/handover.py) ---


@pytest.fixture
def requested_on_postgresql(pg_database_url: str) -> Iterator[Engine]:
    """PostgreSQL only: SQLite commits in-process, so there is no reply to wait for and no
    server to lose."""
    engine = create_store_engine(pg_database_url)
    migrate_engine(engine)
    with engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
    yield engine
    engine.dispose()


def test_the_claim_commits_and_the_follow_up_runs_once(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as c:
        ledger.record_requested(c, KEY, NOW)
    calls: list[MailState | None] = []
    with ledger_engine.connect() as connection:
        transaction = connection.begin()
        assert ledger.claim(connection, KEY.outreach_id, "a", "<m>", NOW)
        outcome = commit_then(connection, transaction, lambda: calls.append(None))
        assert not connection.in_transaction()
        # The connection is usable afterwards, in a new transaction.
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
        connection.rollback()
    assert outcome is Handover.COMMITTED
    assert len(calls) == 1
    assert _state(ledger_engine) is MailState.SENDING


@pytest.mark.postgres
def test_on_postgresql_the_follow_up_runs_before_the_commit_is_answered(
    requested_on_postgresql: Engine,
) -> None:
    ledger_engine = requested_on_postgresql
    seen: list[pq.TransactionStatus] = []
    with ledger_engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        transaction = connection.begin()
        assert ledger.claim(connection, KEY.outreach_id, "a", "<m>", NOW)
        outcome = commit_then(
            connection, transaction, lambda: seen.append(driver.pgconn.transaction_status)
        )
    # ACTIVE: a command (the COMMIT) is on its way and its reply has not been read.
    assert seen == [pq.TransactionStatus.ACTIVE]
    assert outcome is Handover.COMMITTED


@pytest.mark.postgres
def test_on_postgresql_a_connection_lost_at_the_commit_is_uncertain(
    requested_on_postgresql: Engine,
) -> None:
    ledger_engine = requested_on_postgresql
    calls: list[None] = []
    with ledger_engine.connect() as connection:
        transaction = connection.begin()
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert ledger.claim(connection, KEY.outreach_id, "a", "<m>", NOW)
        with ledger_engine.connect() as other:
            # With a timeout it returns only once the backend is gone.
            other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
            other.commit()
        outcome = commit_then(connection, transaction, lambda: calls.append(None))
        connection.invalidate()
    # The COMMIT may still reach a dead socket: the follow-up ran, and the outcome says that
    # the claim cannot be relied on (it was in fact rolled back with the backend).
    assert outcome in (Handover.UNCERTAIN, Handover.NOT_SENT)
    assert len(calls) == (1 if outcome is Handover.UNCERTAIN else 0)
    assert _state(ledger_engine) is MailState.PENDING


def test_skip_pending_takes_a_read_ahead_of_thousands_of_cancellations(
    ledger_engine: Engine,
) -> None:
    """One poll ahead can bring a batch's worth of cancellations (5,000 at 1,000 emails a
    second); SQLite refuses an expression deeper than 1,000, as one OR per key would be."""
    keys = [
        OutreachKey(f"00000000-0000-5000-8000-{n:012d}", "acme", "J-1", f"C-{n}")
        for n in range(1_500)
    ]
    with ledger_engine.begin() as c:
        for key in keys[:1_000]:
            ledger.record_requested(c, key, NOW)
        assert ledger.skip_pending(c, keys, NOW) == {key.outreach_id for key in keys[:1_000]}
