"""The reason and its one-sentence summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.unit.rules.factories import DAY, T, make_candidate, make_job
from worker.rules.model import Application
from worker.rules.reason import (
    PreviousApplication,
    build_reason,
    join_credentials,
    month_year,
    previous_application,
)

MARCH_2025 = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
ANALYST = Application("J-old", "Data Analyst", MARCH_2025, "rejected")


def test_the_spec_example() -> None:
    candidate = make_candidate(applications=(ANALYST,))
    reason = build_reason(candidate, make_job(), T)
    assert reason.summary == (
        "You applied for Data Analyst in March 2025; this new Senior Data Analyst role asks "
        "for SQL and Tableau, which are on your profile."
    )
    assert reason.matched_credentials == ("SQL", "Tableau")
    assert reason.matched_preferred_credentials == ()
    assert reason.previous_application == PreviousApplication("J-old", "Data Analyst", MARCH_2025)
    assert reason.last_activity_at == T - 200 * DAY
    assert reason.inactive_days == 200


@pytest.mark.parametrize(
    ("required", "preferred", "credentials", "ending"),
    [
        (("SQL",), (), ("sql",), "asks for SQL, which is on your profile."),
        (
            ("SQL", "Tableau", "Python"),
            (),
            ("sql", "tableau", "python"),
            "asks for SQL, Tableau and Python, which are on your profile.",
        ),
        (
            ("A", "B", "C", "D"),
            (),
            ("a", "b", "c", "d"),
            "asks for A, B, C and D, which are on your profile.",
        ),
        (
            tuple("ABCDEFGH"),
            (),
            tuple("abcdefgh"),
            "asks for A, B, C and 5 more, which are on your profile.",
        ),
        # No required credentials: the preferred ones matched, else a plain invitation.
        ((), ("Python", "dbt", "Go"), ("python",), "prefers Python, which is on your profile."),
        (
            (),
            ("Python", "dbt"),
            ("DBT", "python"),
            "prefers Python and dbt, which are on your profile.",
        ),
        ((), ("Go",), ("python",), "may interest you, given your profile."),
        ((), (), (), "may interest you, given your profile."),
        # Required ones are named alone even when preferred ones matched too.
        (("SQL",), ("Python",), ("sql", "python"), "asks for SQL, which is on your profile."),
    ],
)
def test_summary_cases(
    required: tuple[str, ...], preferred: tuple[str, ...], credentials: tuple[str, ...], ending: str
) -> None:
    job = make_job(required_credentials=required, preferred_credentials=preferred)
    reason = build_reason(make_candidate(credentials=credentials), job, T)
    assert reason.summary == f"This new Senior Data Analyst role {ending}"


def test_summary_without_credentials_but_with_history() -> None:
    job = make_job(title="Barista", required_credentials=(), preferred_credentials=())
    reason = build_reason(make_candidate(applications=(ANALYST,)), job, T)
    assert reason.summary == (
        "You applied for Data Analyst in March 2025; this new Barista role may interest you, "
        "given your profile."
    )


def test_credentials_in_job_spelling_each_once() -> None:
    job = make_job(
        required_credentials=("ＳＱＬ", "sql ", "Power  BI"),
        preferred_credentials=("Python", "dbt", "PYTHON", "Go"),
    )
    candidate = make_candidate(credentials=("SQL", "power bi", "python", "DBT"))
    reason = build_reason(candidate, job, T)
    assert reason.matched_credentials == ("ＳＱＬ", "Power  BI")
    assert reason.matched_preferred_credentials == ("Python", "dbt")


@pytest.mark.parametrize(
    ("items", "joined"),
    [
        ([], ""),
        (["A"], "A"),
        (["A", "B"], "A and B"),
        (["A", "B", "C"], "A, B and C"),
        (["A", "B", "C", "D"], "A, B, C and D"),
        (["A", "B", "C", "D", "E"], "A, B, C and 2 more"),
        ([str(n) for n in range(50)], "0, 1, 2 and 47 more"),
    ],
)
def test_join_credentials(items: list[str], joined: str) -> None:
    assert join_credentials(items) == joined


def test_previous_application_is_the_latest_up_to_t() -> None:
    older = Application("J-a", "Clerk", T - 900 * DAY)
    latest = Application("J-b", "Analyst", T - 300 * DAY)
    future = Application("J-c", "Manager", T + DAY)
    same_time = Application("J-0", "Intern", T - 300 * DAY)
    found = previous_application([future, older, same_time, latest], T)
    assert found == PreviousApplication("J-b", "Analyst", T - 300 * DAY)
    assert previous_application([future], T) is None
    assert previous_application([], T) is None
    at_t = Application("J-t", "Analyst", T)
    assert previous_application([at_t], T) == PreviousApplication("J-t", "Analyst", T)


def test_month_is_read_in_utc() -> None:
    new_york = timezone(timedelta(hours=-5))
    assert month_year(datetime(2025, 3, 31, 20, 0, tzinfo=new_york)) == "April 2025"
    assert month_year(datetime(2025, 3, 31, 18, 0, tzinfo=new_york)) == "March 2025"
    assert month_year(datetime(2025, 12, 1)) == "December 2025"


def test_summary_carries_no_personal_data() -> None:
    candidate = make_candidate(
        first_name="Jane", last_name="Doe", email="jane.doe@example.com", applications=(ANALYST,)
    )
    summary = build_reason(candidate, make_job(), T).summary
    for personal in ("Jane", "Doe", "jane", "@", "C1"):
        assert personal not in summary


def test_no_reason_across_tenants() -> None:
    with pytest.raises(ValueError, match="tenants"):
        build_reason(make_candidate(tenant_id="globex"), make_job(), T)


def test_no_reason_without_activity() -> None:
    with pytest.raises(ValueError, match="activity"):
        build_reason(make_candidate(last_activity_at=None), make_job(), T)
