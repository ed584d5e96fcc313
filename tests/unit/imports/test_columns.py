"""CSV rows to `ats.candidate.updated` data: documented columns, forgiving formats, bad rows
explained by column (never by value)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from worker.imports.columns import COLUMNS, Header, HeaderError, RowError, RowMapper

DEFAULT_AT = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def mapper(*names: str) -> RowMapper:
    return RowMapper(Header.parse(list(names)), "acme", DEFAULT_AT)


def test_a_full_row_becomes_the_snapshot_it_describes() -> None:
    m = mapper(*COLUMNS)
    row = {
        "candidate_id": " C-1 ",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "credentials": "Python; SQL|  Tableau ;;",
        "location": "London",
        "last_activity_at": "2025-03-01",
        "do_not_contact": "No",
        "email_status": "VALID",
        "consent_expires_at": "2027-01-01 08:30:00+01:00",
        "updated_at": "2026-01-31T10:00:00Z",
        "last_application_job_id": "J-9",
        "last_application_job_title": "Analyst",
        "last_application_applied_at": "2024-11-05T09:00:00Z",
        "last_application_status": "rejected",
    }
    candidate = m.candidate([row[name] for name in COLUMNS])
    assert candidate.tenant_id == "acme"
    assert candidate.candidate_id == "C-1"
    assert candidate.credentials == ("Python", "SQL", "Tableau")
    assert candidate.last_activity_at == datetime(2025, 3, 1, tzinfo=UTC)
    assert candidate.do_not_contact is False
    assert candidate.email_status == "valid"
    assert candidate.consent_expires_at == datetime(2027, 1, 1, 7, 30, tzinfo=UTC)
    assert candidate.updated_at == datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    (application,) = candidate.applications
    assert (application.job_id, application.job_title, application.status) == (
        "J-9",
        "Analyst",
        "rejected",
    )
    assert application.applied_at == datetime(2024, 11, 5, 9, 0, tzinfo=UTC)


def test_only_candidate_id_is_required_and_defaults_fill_the_rest() -> None:
    candidate = mapper("candidate_id").candidate(["C-2"])
    assert candidate.email is None
    assert candidate.credentials == ()
    assert candidate.do_not_contact is False
    assert candidate.email_status == "unknown"
    assert candidate.applications == ()
    assert candidate.updated_at == DEFAULT_AT


def test_header_names_ignore_case_and_spaces_and_unknown_columns_are_listed() -> None:
    header = Header.parse([" Candidate_ID ", "EMAIL", "favourite colour", "", "email"])
    assert header.positions == {"candidate_id": 0, "email": 1}
    assert header.ignored == ("favourite colour", "email (column 5: the first email is read)")
    candidate = RowMapper(header, "acme", DEFAULT_AT).candidate(
        ["C-3", "x@example.com", "teal", "", "second@example.com"]
    )
    assert candidate.email == "x@example.com"


def test_a_header_without_candidate_id_is_refused() -> None:
    with pytest.raises(HeaderError, match="candidate_id"):
        Header.parse(["id", "email"])


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("candidate_id", "", "candidate_id: String should have at least 1 character"),
        ("candidate_id", "   ", "candidate_id: String should have at least 1 character"),
        ("do_not_contact", "perhaps", "do_not_contact: expected true/false"),
        ("email_status", "gone", "email_status:"),
        ("last_activity_at", "2025-03-01T10:00:00", "last_activity_at:"),
        ("last_activity_at", "yesterday", "last_activity_at:"),
        ("email", "x" * 300 + "@example.com", "email:"),
        ("credentials", "a;" + "b" * 101, "credentials:"),
    ],
)
def test_a_bad_cell_names_its_column_and_not_its_value(
    column: str, value: str, problem: str
) -> None:
    names = ["candidate_id", column] if column != "candidate_id" else ["candidate_id"]
    row = ["C-4", value] if column != "candidate_id" else [value]
    with pytest.raises(RowError) as raised:
        mapper(*names).candidate(row)
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems
    if len(value) > 3:
        assert value not in str(raised.value)


def test_an_application_needs_its_id_title_and_date() -> None:
    m = mapper("candidate_id", "last_application_job_title")
    with pytest.raises(RowError) as raised:
        m.candidate(["C-5", "Analyst"])
    problems = raised.value.problems
    assert any(p.startswith("last_application_job_id:") for p in problems), problems
    assert any(p.startswith("last_application_applied_at:") for p in problems), problems


def test_a_row_with_the_wrong_number_of_fields_is_bad() -> None:
    with pytest.raises(RowError, match="3 fields where the header has 2"):
        mapper("candidate_id", "email").candidate(["C-6", "a@example.com", "extra"])


def test_several_problems_of_one_row_are_all_reported() -> None:
    with pytest.raises(RowError) as raised:
        mapper("candidate_id", "do_not_contact", "email_status").candidate(["C-7", "?", "?"])
    assert len(raised.value.problems) == 2


@pytest.mark.parametrize("text", ["true", "TRUE", "yes", "Y", "1", "t"])
def test_true_spellings(text: str) -> None:
    assert mapper("candidate_id", "do_not_contact").candidate(["C", text]).do_not_contact


@pytest.mark.parametrize("text", ["false", "No", "n", "0", "", "F"])
def test_false_spellings(text: str) -> None:
    assert not mapper("candidate_id", "do_not_contact").candidate(["C", text]).do_not_contact


def test_the_calendars_ends_as_never_and_unknown_mean_the_nearest_day_the_contract_holds() -> None:
    header = Header.parse(["candidate_id", "consent_expires_at", "last_activity_at"])
    candidate = RowMapper(header, "acme", DEFAULT_AT).candidate(["C-1", "9999-12-31", "0001-01-01"])
    assert candidate.consent_expires_at is not None and candidate.last_activity_at is not None
    assert candidate.consent_expires_at.isoformat() == "9999-12-30T00:00:00+00:00"
    assert candidate.last_activity_at.isoformat() == "0001-01-02T00:00:00+00:00"
