"""The reason carried by an outreach request: what matched, and one sentence for the candidate.

Built from one candidate and one job only (never the pool), so it cannot name another candidate
or carry another tenant's data. Deterministic: no clock, no locale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from worker.rules.eligibility import inactive_days
from worker.rules.model import Application, Candidate, Job
from worker.rules.normalise import norm, norm_set
from worker.rules.shorten import plain, shorten

# Named in English whatever the process locale is (calendar.month_name follows the locale).
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# The limits of `reason` in `reengage.outreach.requested` (worker/contracts/outreach.py): what
# the rule builds must always fit them, whatever valid input it was built from.
MAX_SUMMARY_CHARS = 1000
MAX_TITLE_CHARS = 300
MAX_CREDENTIAL_CHARS = 100

# A sentence names at most this many entries: the credentials, or the first ones and "N more".
MAX_NAMED_CREDENTIALS = 4
# With two entries the sentence always fits: two titles of MAX_TITLE_CHARS and two credentials
# of MAX_CREDENTIAL_CHARS, with the longest month, make 893 characters.
_FEWEST_NAMED = 2


@dataclass(frozen=True, slots=True)
class PreviousApplication:
    job_id: str
    job_title: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class Reason:
    """`reason` of `reengage.outreach.requested` (EVENTS.md)."""

    matched_credentials: tuple[str, ...]
    matched_preferred_credentials: tuple[str, ...]
    last_activity_at: datetime
    inactive_days: int
    previous_application: PreviousApplication | None
    summary: str


def build_reason(candidate: Candidate, job: Job, at: datetime) -> Reason:
    """The reason for requesting `candidate` for `job` at `at` (an eligible candidate).

    Credentials are given in the job's spelling and order, each normalised credential once; a
    spelling over MAX_CREDENTIAL_CHARS (a preferred credential may be any length) is shortened.
    """
    if candidate.tenant_id != job.tenant_id:
        raise ValueError("a reason never mixes tenants")
    if candidate.last_activity_at is None:
        raise ValueError("an eligible candidate has a last activity")
    have = norm_set(candidate.credentials)
    required = _matched_in_job_spelling(job.required_credentials, have)
    preferred = _matched_in_job_spelling(job.preferred_credentials, have)
    previous = previous_application(candidate.applications, at)
    return Reason(
        matched_credentials=required,
        matched_preferred_credentials=preferred,
        last_activity_at=candidate.last_activity_at,
        inactive_days=inactive_days(at, candidate.last_activity_at),
        previous_application=previous,
        summary=summary_sentence(job.title, required, preferred, previous),
    )


def _matched_in_job_spelling(
    job_credentials: Iterable[str], have: frozenset[str]
) -> tuple[str, ...]:
    matched: list[str] = []
    seen: set[str] = set()
    for credential in job_credentials:
        key = norm(credential)
        if key in have and key not in seen:
            seen.add(key)
            matched.append(shorten(credential, MAX_CREDENTIAL_CHARS))
    return tuple(matched)


def previous_application(
    applications: Iterable[Application], at: datetime
) -> PreviousApplication | None:
    """The most recent application made at or before T (later ones are not "previous"):
    latest `applied_at`, then the greatest job id and title: never the list order. One with
    a blank title (the ATS may send one) cannot be named to the candidate, so it is passed
    over."""
    past = [a for a in applications if a.applied_at <= at and a.job_title]
    if not past:
        return None
    latest = max(
        past, key=lambda a: (a.applied_at, a.job_id.encode("utf-8"), a.job_title.encode("utf-8"))
    )
    # The outreach event holds a title of at most MAX_TITLE_CHARS; the ATS's may be longer.
    title = shorten(latest.job_title, MAX_TITLE_CHARS)
    return PreviousApplication(latest.job_id, title, latest.applied_at)


def summary_sentence(
    job_title: str,
    required: Sequence[str],
    preferred: Sequence[str],
    previous: PreviousApplication | None,
) -> str:
    """One plain sentence of at most MAX_SUMMARY_CHARS, e.g. "You applied for Data Analyst in
    March 2025; this new Senior Data Analyst role asks for SQL and Tableau, which are on your
    profile."

    It names the required credentials when the job has any, else the preferred ones matched,
    to stay one short sentence; both full lists travel in the reason's other fields. Names are
    put on one line, and a name over its limit (see `shorten`) is cut. When long names would
    make the sentence too long, it names fewer credentials ("SQL and 4 more") rather than
    cutting the titles.
    """
    title = _name(job_title, MAX_TITLE_CHARS)
    if previous is None:
        opening = f"This new {title} role"
    else:
        applied = (
            f"{_name(previous.job_title, MAX_TITLE_CHARS)} in {month_year(previous.applied_at)}"
        )
        opening = f"You applied for {applied}; this new {title} role"
    if not required and not preferred:
        return f"{opening} may interest you, given your profile."
    verb, credentials = ("asks for", required) if required else ("prefers", preferred)
    names = [_name(credential, MAX_CREDENTIAL_CHARS) for credential in credentials]
    for entries in range(MAX_NAMED_CREDENTIALS, _FEWEST_NAMED, -1):
        sentence = f"{opening} {verb} {_credentials_clause(names, entries)}"
        if len(sentence) <= MAX_SUMMARY_CHARS:
            return sentence
    return f"{opening} {verb} {_credentials_clause(names, _FEWEST_NAMED)}"


def _name(text: str, limit: int) -> str:
    # On one line whatever the ATS's spelling, so the summary reads as one plain sentence.
    return shorten(plain(text), limit)


def _credentials_clause(credentials: Sequence[str], entries: int) -> str:
    verb = "is" if len(credentials) == 1 else "are"
    return f"{join_credentials(credentials, entries)}, which {verb} on your profile."


def join_credentials(credentials: Sequence[str], entries: int = MAX_NAMED_CREDENTIALS) -> str:
    """Joins with commas and a final "and", no Oxford comma: "A, B and C".

    Names at most `entries` entries: beyond that many credentials, the first `entries - 1` and
    a count of the rest ("A, B, C and 5 more" for eight credentials and four entries).
    """
    if entries < 2:
        raise ValueError("a count of the rest needs a credential named before it")
    items = list(credentials)
    if not items:
        return ""
    if len(items) > entries:
        shown = entries - 1
        items = [*items[:shown], f"{len(items) - shown} more"]
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def month_year(moment: datetime) -> str:
    """E.g. "March 2025". In UTC, so the text does not depend on the offset a database hands
    back; a naive value is taken as UTC, which is how the store keeps time."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{_MONTHS[utc.month - 1]} {utc.year}"
