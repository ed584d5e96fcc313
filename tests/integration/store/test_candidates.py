"""Candidate snapshots, stale protection, erasure and suppression, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, delete, insert, select

from tests.integration.store.builders import DAY, TENANT, T, snapshot
from worker.rules.model import Application, EmailStatus
from worker.store.candidates import (
    UPSERT_CHUNK,
    UpsertOutcome,
    erase_candidate,
    load_candidates,
    store_snapshots,
    stream_candidates,
    upsert_candidates,
)
from worker.store.schema import (
    CandidateCredentialRow,
    CandidateRow,
    OutboxRow,
    SuppressedAddressRow,
)
from worker.store.suppression import suppress_email

APPLIED, STALE, ERASED = UpsertOutcome.APPLIED, UpsertOutcome.STALE, UpsertOutcome.ERASED


def _credentials(engine: Engine, candidate_id: str = "c-1") -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(CandidateCredentialRow.credential)
                .where(CandidateCredentialRow.candidate_id == candidate_id)
                .order_by(CandidateCredentialRow.credential)
            ).scalars()
        )


def test_snapshot_round_trips_with_original_spelling(engine: Engine) -> None:
    applied_at = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
    given = snapshot(
        credentials=("  ＰＹＴＨＯＮ ", "SQL", "sql"),
        consent_expires_at=T + 365 * DAY,
        location="Lyon",
        applications=(Application("old-1", "Data Analyst", applied_at, "rejected"),),
    )
    with engine.begin() as connection:
        assert upsert_candidates(connection, [given]) == [APPLIED]
        stored = load_candidates(connection, TENANT, ["c-1", "nobody"])
    candidate = stored["c-1"]
    assert list(stored) == ["c-1"]
    assert candidate.credentials == ("  ＰＹＴＨＯＮ ", "SQL", "sql")
    assert candidate.applications == given.applications
    assert candidate.consent_expires_at == given.consent_expires_at
    assert candidate.last_activity_at == given.last_activity_at
    assert candidate.email_syntax_valid is True
    assert candidate.email_suppressed is False
    # Matching uses the normalised, distinct set.
    assert _credentials(engine) == ["python", "sql"]


def test_older_and_equal_snapshots_are_stale(engine: Engine) -> None:
    with engine.begin() as connection:
        assert upsert_candidates(connection, [snapshot(updated_at=T)]) == [APPLIED]
        outcomes = upsert_candidates(
            connection,
            [
                snapshot(updated_at=T - DAY, email="old@example.com"),
                snapshot(updated_at=T, email="same-time@example.com"),
            ],
        )
        stored = load_candidates(connection, TENANT, ["c-1"])["c-1"]
    assert outcomes == [STALE, STALE]
    assert stored.email == "c-1@example.com"


def test_newer_snapshot_replaces_everything_including_credentials(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot(updated_at=T)])
        outcome = upsert_candidates(
            connection,
            [snapshot(updated_at=T + DAY, credentials=("Rust",), do_not_contact=True)],
        )
        stored = load_candidates(connection, TENANT, ["c-1"])["c-1"]
    assert outcome == [APPLIED]
    assert stored.credentials == ("Rust",)
    assert stored.do_not_contact is True
    assert _credentials(engine) == ["rust"]


def test_snapshots_of_one_candidate_in_one_batch_apply_in_order(engine: Engine) -> None:
    batch = [
        snapshot(updated_at=T, credentials=("a",)),
        snapshot("c-2", updated_at=T),
        snapshot(updated_at=T + DAY, credentials=("b",)),
        snapshot(updated_at=T - DAY, credentials=("stale",)),
        snapshot(updated_at=T + 2 * DAY, credentials=("c",)),
    ]
    with engine.begin() as connection:
        outcomes = upsert_candidates(connection, batch)
        stored = load_candidates(connection, TENANT, ["c-1"])["c-1"]
    assert outcomes == [APPLIED, APPLIED, APPLIED, STALE, APPLIED]
    assert stored.credentials == ("c",)
    assert _credentials(engine) == ["c"]


def test_credential_rows_follow_each_snapshot_candidate_by_candidate(engine: Engine) -> None:
    steps = [
        {"c-1": ("Python", "SQL"), "c-2": ("SQL",)},
        {"c-1": ("python", "Go"), "c-2": ("SQL",)},  # c-1 drops SQL, c-2 keeps it
        {"c-1": ("  GO ", "Python"), "c-2": ()},  # c-1 unchanged once normalised
        {"c-1": (), "c-2": ("Rust", "sql")},
    ]
    held = []
    for day, credentials in enumerate(steps):
        with engine.begin() as connection:
            upsert_candidates(
                connection,
                [
                    snapshot(key, updated_at=T + day * DAY, credentials=value)
                    for key, value in credentials.items()
                ],
            )
        held.append((_credentials(engine, "c-1"), _credentials(engine, "c-2")))
    assert held == [
        (["python", "sql"], ["sql"]),
        (["go", "python"], ["sql"]),
        (["go", "python"], []),
        ([], ["rust", "sql"]),
    ]


def test_one_statement_inserting_some_candidates_and_updating_others_syncs_both(
    engine: Engine,
) -> None:
    # New and known candidates in one statement: each gets exactly its own credential rows.
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1", updated_at=T, credentials=("Go", "SQL"))])
    with engine.begin() as connection:
        outcomes = upsert_candidates(
            connection,
            [
                snapshot("c-2", updated_at=T, credentials=("SQL",)),
                snapshot("c-1", updated_at=T + DAY, credentials=("Rust", "sql")),
                snapshot("c-3", updated_at=T, credentials=("Go",)),
            ],
        )
    assert outcomes == [APPLIED, APPLIED, APPLIED]
    assert [_credentials(engine, c) for c in ("c-1", "c-2", "c-3")] == [
        ["rust", "sql"],
        ["sql"],
        ["go"],
    ]


def test_a_candidate_deleted_by_hand_comes_back_with_only_its_new_credentials(
    engine: Engine,
) -> None:
    # No code deletes candidate rows, but an operator may, leaving the credential rows behind
    # (there is no foreign key, migration 0003). The candidate's return must not fail on them
    # (the same credential again) nor keep them (one it no longer holds).
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1", updated_at=T, credentials=("Go", "SQL"))])
        connection.execute(delete(CandidateRow).where(CandidateRow.candidate_id == "c-1"))
    with engine.begin() as connection:
        outcomes = upsert_candidates(
            connection, [snapshot("c-1", updated_at=T + DAY, credentials=("sql", "Rust"))]
        )
    assert outcomes == [APPLIED]
    assert _credentials(engine, "c-1") == ["rust", "sql"]


def test_stored_candidates_come_from_the_upsert_as_a_read_would_see_them(engine: Engine) -> None:
    lyon = timezone(timedelta(hours=2))
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1", updated_at=T)])
        suppress_email(connection, TENANT, "c-1")
        results = store_snapshots(
            connection,
            [
                snapshot("c-1", updated_at=T + DAY, last_name="Byron"),  # same address
                snapshot(
                    "c-2",
                    updated_at=T.astimezone(lyon),
                    consent_expires_at=datetime(2027, 1, 1, tzinfo=lyon),
                    applications=(
                        Application("j-9", "Analyst", datetime(2025, 1, 1, 0, 30, tzinfo=lyon)),
                    ),
                ),
                snapshot("c-1", updated_at=T - DAY),
            ],
        )
        read = load_candidates(connection, TENANT, ["c-1", "c-2"])
    assert [r.outcome for r in results] == [APPLIED, APPLIED, STALE]
    assert results[0].candidate == read["c-1"]
    assert results[0].candidate is not None and results[0].candidate.email_suppressed is True
    assert results[1].candidate == read["c-2"]
    # Equal instants compare equal across offsets; the rendered form must agree too.
    assert repr(results[1].candidate) == repr(read["c-2"])
    assert results[2].candidate is None


def test_batches_larger_than_one_statement(engine: Engine) -> None:
    count = UPSERT_CHUNK * 2 + 7
    batch = [snapshot(f"c-{n:05}", credentials=(f"skill-{n % 3}",)) for n in range(count)]
    with engine.begin() as connection:
        assert upsert_candidates(connection, batch) == [APPLIED] * count
        again = upsert_candidates(connection, batch)
        streamed = [c.candidate_id for c in stream_candidates(connection, TENANT)]
    assert again == [STALE] * count
    assert streamed == [s.candidate_id for s in batch]


def test_email_syntax_is_checked_on_ingest(engine: Engine) -> None:
    emails = {
        "ok": "jane.doe@example.com",
        "unicode-ok": "josé@example.com",
        "no-at": "jane.example.com",
        "space": "jane doe@example.com",
        "padded": " jane.doe@example.com ",
        "none": None,
    }
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot(key, email=email) for key, email in emails.items()])
        stored = load_candidates(connection, TENANT, emails)
    validity = {key: stored[key].email_syntax_valid for key in emails}
    assert validity == {
        "ok": True,
        "unicode-ok": True,
        "no-at": False,
        "space": False,
        "padded": False,
        "none": False,
    }
    assert stored["space"].email == "jane doe@example.com"  # stored as given
    assert stored["padded"].email == " jane.doe@example.com "


def test_suppression_sticks_to_the_address(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot(updated_at=T)])
        assert suppress_email(connection, TENANT, "c-1") == ["c-1"]
        assert suppress_email(connection, TENANT, "nobody") == []
        upsert_candidates(connection, [snapshot(updated_at=T + DAY, last_name="Byron")])
        same_address = load_candidates(connection, TENANT, ["c-1"])["c-1"]
        upsert_candidates(connection, [snapshot(updated_at=T + 2 * DAY, email="new@example.com")])
        new_address = load_candidates(connection, TENANT, ["c-1"])["c-1"]
    assert same_address.email_suppressed is True
    assert same_address.last_name == "Byron"
    assert new_address.email_suppressed is False


def test_a_reported_address_stays_suppressed_when_it_comes_back(engine: Engine) -> None:
    """Rule 4: "the mailer has reported this address": another address in between does not
    make it usable again; erasure forgets the reports with the rest of the personal data."""
    addresses = ["first@example.com", "second@example.com", "First@Example.com"]
    suppressed = []
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot(updated_at=T, email=addresses[0])])
        suppress_email(connection, TENANT, "c-1")
        for day, address in enumerate(addresses[1:], start=1):
            upsert_candidates(connection, [snapshot(updated_at=T + day * DAY, email=address)])
            suppressed.append(load_candidates(connection, TENANT, ["c-1"])["c-1"].email_suppressed)
        reports = connection.execute(select(SuppressedAddressRow.address)).scalars().all()
        erase_candidate(connection, TENANT, "c-1", T + 3 * DAY)
        upsert_candidates(connection, [snapshot(updated_at=T + 4 * DAY, email=addresses[0])])
        after_erasure = load_candidates(connection, TENANT, ["c-1"])["c-1"].email_suppressed
        left = connection.execute(select(SuppressedAddressRow.address)).scalars().all()
    assert suppressed == [False, True]
    assert reports == ["first@example.com"]
    assert (after_erasure, left) == (False, [])


def test_a_reported_address_is_unusable_for_every_holder_in_the_tenant(engine: Engine) -> None:
    """Rule 4: "the mailer reported this address". Holders then and later, new or returning,
    lose it; the report outlives the erasure of any holder while another holds the address;
    other tenants' candidates keep it."""
    with engine.begin() as connection:
        upsert_candidates(
            connection,
            [
                snapshot("c-1", email="Jane@Example.com"),
                snapshot("c-2", email="jane@example.COM"),
                snapshot("c-3", email="other@example.com"),
                snapshot("c-4", email="jane@example.com", tenant_id="globex"),
            ],
        )
        holders = suppress_email(connection, TENANT, "c-1")
        upsert_candidates(
            connection,
            [
                snapshot("c-3", email="JANE@example.com", updated_at=T),  # an update brings it
                snapshot("c-5", email="jane@example.com"),  # a new candidate
            ],
        )
        # The holders when it was reported are erased; those who took it since still hold
        # a record of the report each.
        erase_candidate(connection, TENANT, "c-1", T)
        erase_candidate(connection, TENANT, "c-2", T)
        upsert_candidates(connection, [snapshot("c-6", email="jane@example.com")])
        stored = load_candidates(connection, TENANT, ["c-3", "c-5", "c-6"])
        globex = load_candidates(connection, "globex", ["c-4"])["c-4"]
    assert holders == ["c-1", "c-2"]
    assert {c: s.email_suppressed for c, s in stored.items()} == {
        "c-3": True,
        "c-5": True,
        "c-6": True,
    }
    assert globex.email_suppressed is False


@pytest.mark.parametrize(
    ("reported", "next_snapshot", "still_suppressed"),
    [
        ("Jane@Example.com", "jane@example.COM", True),  # the same address, other ASCII case
        ("Jane@Example.com", "jane2@example.com", False),
        ("Élodie@example.com", "élodie@example.com", False),  # beyond ASCII: compared as is
        ("Élodie@example.com", "Élodie@EXAMPLE.com", True),
    ],
)
def test_suppression_ignores_ascii_case_only(
    engine: Engine, reported: str, next_snapshot: str, still_suppressed: bool
) -> None:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot(updated_at=T, email=reported)])
        suppress_email(connection, TENANT, "c-1")
        upsert_candidates(connection, [snapshot(updated_at=T + DAY, email=next_snapshot)])
        stored = load_candidates(connection, TENANT, ["c-1"])["c-1"]
    assert stored.email == next_snapshot
    assert stored.email_suppressed is still_suppressed


def test_contactable_column_follows_rules_3_and_4(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_candidates(
            connection,
            [
                snapshot("ok"),
                snapshot("dnc", do_not_contact=True),
                snapshot("bounced", email_status=EmailStatus.BOUNCED),
                snapshot("bad-syntax", email="nope"),
                snapshot("suppressed"),
            ],
        )
        suppress_email(connection, TENANT, "suppressed")
        rows = dict(
            connection.execute(select(CandidateRow.candidate_id, CandidateRow.contactable)).all()
        )
    assert {key: bool(value) for key, value in rows.items()} == {
        "ok": True,
        "dnc": False,
        "bounced": False,
        "bad-syntax": False,
        "suppressed": False,
    }


def test_erasure_scrubs_personal_data_and_leaves_a_tombstone(engine: Engine) -> None:
    erased_at = T + DAY
    key = f"{TENANT}:c-1"
    with engine.begin() as connection:
        upsert_candidates(
            connection,
            [snapshot(updated_at=T, applications=(Application("j", "Analyst", T - DAY),))],
        )
        connection.execute(
            insert(OutboxRow),
            [
                _outbox_row(key, "reengage.outreach.requested", published=True),
                _outbox_row(key, "reengage.outreach.requested", published=False),
                _outbox_row(key, "reengage.outreach.cancelled", published=False),
                _outbox_row(f"{TENANT}:c-2", "reengage.outreach.requested", published=False),
            ],
        )
        erase_candidate(connection, TENANT, "c-1", erased_at)
        stored = load_candidates(connection, TENANT, ["c-1"])["c-1"]
        outbox = connection.execute(
            select(OutboxRow.key, OutboxRow.payload, OutboxRow.published_at).order_by(OutboxRow.id)
        ).all()
        late = upsert_candidates(
            connection,
            [snapshot(updated_at=erased_at - DAY), snapshot(updated_at=erased_at)],
        )
        erased_row = connection.execute(select(CandidateRow.erased_at)).scalar_one()
    assert (stored.email, stored.first_name, stored.last_name) == (None, None, None)
    assert stored.credentials == ()
    assert stored.applications == ()
    assert _credentials(engine) == []
    assert erased_row == erased_at
    assert late == [ERASED, ERASED]
    remaining = [(k, json.loads(p)["type"], published is not None) for k, p, published in outbox]
    assert remaining == [  # requests hold personal data, published or not
        (key, "reengage.outreach.cancelled", False),
        (f"{TENANT}:c-2", "reengage.outreach.requested", False),
    ]


def test_a_snapshot_after_the_erasure_brings_the_candidate_back(engine: Engine) -> None:
    with engine.begin() as connection:
        erase_candidate(connection, TENANT, "c-1", T)  # unknown so far: tombstone only
        outcome = upsert_candidates(connection, [snapshot(updated_at=T + DAY)])
        stored = load_candidates(connection, TENANT, ["c-1"])["c-1"]
    assert outcome == [APPLIED]
    assert stored.email == "c-1@example.com"


def test_an_erasure_older_than_the_snapshot_still_takes_it_out_of_the_pool(
    engine: Engine,
) -> None:
    """Processed late, an erasure still scrubs (erasure is not second-guessed); the tombstone
    then dates from the snapshot it scrubbed, so the row is not counted in the pool, and only
    a newer snapshot brings the candidate back."""
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot(updated_at=T + DAY)])
        erase_candidate(connection, TENANT, "c-1", T)
        in_pool_after_erasure = [c.candidate_id for c in stream_candidates(connection, TENANT)]
        stale = upsert_candidates(connection, [snapshot(updated_at=T + DAY)])
        back = upsert_candidates(connection, [snapshot(updated_at=T + 2 * DAY)])
        in_pool_after_snapshot = [c.candidate_id for c in stream_candidates(connection, TENANT)]
    assert in_pool_after_erasure == []
    assert (stale, back) == ([ERASED], [APPLIED])
    assert in_pool_after_snapshot == ["c-1"]


def test_the_latest_erasure_wins(engine: Engine) -> None:
    with engine.begin() as connection:
        erase_candidate(connection, TENANT, "c-1", T + 5 * DAY)
        erase_candidate(connection, TENANT, "c-1", T)
        outcome = upsert_candidates(connection, [snapshot(updated_at=T + 3 * DAY)])
    assert outcome == [ERASED]


def _outbox_row(key: str, kind: str, *, published: bool) -> dict[str, object]:
    return {
        "topic": "reengage.outreach",
        "key": key,
        "headers": {},
        "payload": json.dumps({"type": kind, "data": {"candidate": {"email": "x@example.com"}}}),
        "created_at": T,
        "published_at": T if published else None,
    }


def test_a_padded_address_longer_than_the_key_is_suppressed_without_a_record(
    engine: Engine,
) -> None:
    """The contract limits the trimmed address to 254 characters; the stored one, kept as
    given, may be longer. It is never valid, so suppressing it records nothing."""
    padded = "  " + "j" * 242 + "@example.com  "
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot(updated_at=T, email=padded)])
        assert suppress_email(connection, TENANT, "c-1") == ["c-1"]
        stored = load_candidates(connection, TENANT, ["c-1"])["c-1"]
        reports = connection.execute(select(SuppressedAddressRow.address)).scalars().all()
    assert (stored.email, stored.email_suppressed, stored.email_syntax_valid) == (
        padded,
        True,
        False,
    )
    assert reports == []
