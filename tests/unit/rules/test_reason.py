"""The reason and its one-sentence summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.rules.factories import DAY, T, make_candidate, make_job
from worker.rules.model import Application
from worker.rules.reason import (
    MAX_CREDENTIAL_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    PreviousApplication,
    build_reason,
    join_credentials,
    month_year,
    previous_application,
    summary_sentence,
)
from worker.rules.shorten import ELLIPSIS, plain

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


@pytest.mark.parametrize(
    ("entries", "joined"),
    [(4, "A, B, C and 2 more"), (3, "A, B and 3 more"), (2, "A and 4 more")],
)
def test_join_credentials_in_fewer_entries(entries: int, joined: str) -> None:
    assert join_credentials(list("ABCDE"), entries) == joined
    assert join_credentials(["A", "B"], entries) == "A and B"
    with pytest.raises(ValueError, match="count"):
        join_credentials(list("ABCDE"), 1)


# --- every input at its limit (EVENTS.md: titles 1-300, required credentials 1-100, 50 of
# them; preferred credentials any length) -----------------------------------------------

SEPTEMBER_2025 = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)


def _words(prefix: str, length: int) -> str:
    """Exactly `length` characters of words: "Lead-0 Lead-1 Lead-2 …"."""
    text = " ".join(f"{prefix}-{n}" for n in range(length))[: length - 1]
    return text + "X"  # never ends in a space, which trimming would take off


LONG_TITLE = _words("Lead", MAX_TITLE_CHARS)
LONG_OLD_TITLE = _words("Clerk", MAX_TITLE_CHARS)
LONG_REQUIRED = tuple(_words(f"Skill{n}", MAX_CREDENTIAL_CHARS) for n in range(50))


def _longest(month: datetime, required: tuple[str, ...]) -> str:
    job = make_job(title=LONG_TITLE, required_credentials=required, preferred_credentials=())
    history = tuple(
        Application(f"J-{n}", LONG_OLD_TITLE, month - n * DAY, "rejected") for n in range(100)
    )
    candidate = make_candidate(credentials=required, applications=history)
    return build_reason(candidate, job, T).summary


def test_the_longest_summary_names_fewer_credentials_to_fit() -> None:
    assert len(LONG_TITLE) == len(LONG_OLD_TITLE) == MAX_TITLE_CHARS
    assert {len(c) for c in LONG_REQUIRED} == {MAX_CREDENTIAL_CHARS}
    summary = _longest(SEPTEMBER_2025, LONG_REQUIRED)
    # Four entries ("A, B, C and 47 more") would make 1,004 characters.
    assert summary == (
        f"You applied for {LONG_OLD_TITLE} in September 2025; this new {LONG_TITLE} role asks "
        f"for {LONG_REQUIRED[0]}, {LONG_REQUIRED[1]} and 48 more, which are on your profile."
    )
    assert len(summary) == 902


def test_a_summary_of_exactly_the_limit_keeps_every_entry() -> None:
    summary = _longest(datetime(2025, 3, 14, tzinfo=UTC), LONG_REQUIRED)
    first, second, third = LONG_REQUIRED[:3]
    assert summary.endswith(
        f"for {first}, {second}, {third} and 47 more, which are on your profile."
    )
    assert len(summary) == MAX_SUMMARY_CHARS


def test_two_longest_credentials_are_both_named() -> None:
    summary = _longest(SEPTEMBER_2025, LONG_REQUIRED[:2])
    assert summary.endswith(
        f"for {LONG_REQUIRED[0]} and {LONG_REQUIRED[1]}, which are on your profile."
    )
    assert len(summary) == 893  # the longest a summary can be


def test_a_long_preferred_credential_is_shortened_at_a_word() -> None:
    # "Groß" and "Gross" are the same credential (casefolding), so the job's spelling of the
    # one the candidate has can be longer than any credential of the candidate.
    held = " ".join(["Groß"] * 20)
    spelled = " ".join(["Gross"] * 20)
    spaced = "Data" + " " * 5000 + "Science"
    job = make_job(required_credentials=(), preferred_credentials=(spelled, spaced, "Go"))
    reason = build_reason(make_candidate(credentials=(held, "data science")), job, T)
    shortened = " ".join(["Gross"] * 16) + ELLIPSIS
    assert len(spelled) > MAX_CREDENTIAL_CHARS >= len(shortened)
    assert reason.matched_preferred_credentials == (shortened, "Data Science")
    assert reason.summary == (
        f"This new Senior Data Analyst role prefers {shortened} and Data Science, which are on "
        "your profile."
    )


def test_names_are_put_on_one_line_in_the_summary() -> None:
    job = make_job(title="Senior\nData   Analyst", required_credentials=("Power\tBI",))
    reason = build_reason(make_candidate(credentials=("power bi",)), job, T)
    assert (
        reason.summary
        == "This new Senior Data Analyst role asks for Power BI, which is on your profile."
    )
    assert reason.matched_credentials == ("Power\tBI",)  # the list keeps the job's spelling


_names = st.text(min_size=1, max_size=MAX_TITLE_CHARS).filter(str.strip)
_credentials = st.text(min_size=1, max_size=MAX_CREDENTIAL_CHARS).filter(str.strip)


@given(
    title=_names,
    required=st.lists(_credentials, max_size=50),
    preferred=st.lists(st.text(min_size=1, max_size=3000).filter(str.strip), max_size=50),
    previous=st.none()
    | _names.map(lambda title: PreviousApplication("J-0", title, SEPTEMBER_2025)),
)
def test_any_summary_is_one_line_within_the_limit(
    title: str, required: list[str], preferred: list[str], previous: PreviousApplication | None
) -> None:
    summary = summary_sentence(title, required, preferred, previous)
    assert len(summary) <= MAX_SUMMARY_CHARS
    assert summary == plain(summary)
    assert summary.endswith((" on your profile.", " given your profile."))


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


def test_an_application_with_a_blank_title_is_never_the_one_named() -> None:
    named = Application("J-a", "Clerk", T - 900 * DAY)
    untitled = Application("J-b", "", T - 300 * DAY)
    assert previous_application([named, untitled], T) == PreviousApplication(
        "J-a", "Clerk", T - 900 * DAY
    )
    assert previous_application([untitled], T) is None


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
