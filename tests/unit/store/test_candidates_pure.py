"""The pure parts of candidate storage: the ingest email check, batching rounds, ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from worker.contracts.outreach import outreach_id
from worker.rules.email_syntax import email_syntax_valid
from worker.store import candidate_sql
from worker.store.candidate_sql import SnapshotRow
from worker.store.candidates import CandidateSnapshot, _rounds

T = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("jane.doe@example.com", True),
        ("jane+tag@sub.example.co.uk", True),
        ("josé@example.com", True),
        (None, False),
        ("", False),
        ("jane", False),
        ("jane@", False),
        ("@example.com", False),
        ("jane doe@example.com", False),
        ("jane@@example.com", False),
        ("jane@localhost", False),  # no dot in the domain: not deliverable by the rules
    ],
)
def test_email_syntax(email: str | None, valid: bool) -> None:
    assert email_syntax_valid(email) is valid


def _snap(candidate_id: str, tenant_id: str = "acme") -> CandidateSnapshot:
    return CandidateSnapshot(tenant_id=tenant_id, candidate_id=candidate_id, updated_at=T)


def test_rounds_hold_each_candidate_once_and_keep_its_order() -> None:
    batch = [_snap("a"), _snap("b"), _snap("a"), _snap("a", "other"), _snap("a"), _snap("c")]
    assert _rounds(batch) == [[0, 1, 3, 5], [2], [4]]
    assert _rounds([]) == []


def test_outreach_id_is_the_contracts_uuid5() -> None:
    # Pinned: consumers deduplicate on it, so it must never change between versions.
    assert outreach_id("acme", "j-1", "c-1") == "6286b9b7-b431-55f1-9c12-6a04763b5272"
    assert outreach_id("acme", "j-1", "c-2") != outreach_id("acme", "j-1", "c-1")


def test_a_snapshot_row_is_the_upserts_parameters_in_column_order() -> None:
    # The row is handed to the driver as it stands: its fields must be the statement's columns.
    assert list(SnapshotRow._fields) == [name for name, _ in candidate_sql._SET_COLUMNS]
