"""Eligibility (REENGAGEMENT.md rules 1-9) for one candidate, one job, one reference time.

Pure and clock-free: every time is an argument. The SQL matcher in `worker/store` implements
the same rules and the tests compare the two, so the order and the boundaries written here
are the definition the database must reproduce.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from worker.rules.days import days_after, days_before
from worker.rules.model import Candidate, EmailStatus, Job, PastOutreach, Policy
from worker.rules.normalise import norm, norm_set

_DAY = timedelta(days=1)


class Exclusion(StrEnum):
    """Why a candidate is not requested: the first failing rule, in the spec's order.

    The declaration order is the evaluation order (and the order people see in `preview`).
    """

    OTHER_TENANT = "other_tenant"  # rule 1
    JOB_NOT_YET_OPEN = "job_not_yet_open"  # rule 2: T is before the job's opened_at
    JOB_CLOSED = "job_closed"  # rule 2: closed since it was opened
    DO_NOT_CONTACT = "do_not_contact"  # rule 3
    EMAIL_UNUSABLE = "email_unusable"  # rule 4
    CONSENT_EXPIRED = "consent_expired"  # rule 5
    NO_ACTIVITY = "no_activity"  # rule 6: last_activity_at is null
    NOT_DORMANT_ENOUGH = "not_dormant_enough"  # rule 6: fewer than min_inactive_days
    INACTIVE_TOO_LONG = "inactive_too_long"  # rule 6: more than max_inactive_days
    MISSING_CREDENTIALS = "missing_credentials"  # rule 7
    ALREADY_REQUESTED = "already_requested"  # rule 8
    COOLDOWN = "cooldown"  # rule 9
    CAP_REACHED = "cap_reached"  # eligible, but ranked beyond the job's max_outreach


@dataclass(frozen=True, slots=True)
class Failure:
    """The rule that excluded a candidate, with a short phrase for people.

    `detail` names this candidate's and this job's facts only (days, dates, job ids,
    credentials in the job's spelling), never an email address or a name, so it is safe to log.
    """

    rule: Exclusion
    detail: str


def inactive_days(at: datetime, last_activity_at: datetime) -> int:
    """floor((T - last_activity_at) / 24 h); negative when the activity is after T."""
    return (at - last_activity_at) // _DAY


def effective_policy(job: Job, defaults: Policy) -> Policy:
    """The deployment's policy with the job's overrides applied where the job gives them.

    Only the inactivity window and the cap can be overridden per job; cooldown and the reverse
    matching window are deployment-wide. An override may leave an empty window (min above the
    default max): then nobody is eligible, which is what the job asked for.
    """
    override = job.policy
    return dataclasses.replace(
        defaults,
        min_inactive_days=_pick(override.min_inactive_days, defaults.min_inactive_days),
        max_inactive_days=_pick(override.max_inactive_days, defaults.max_inactive_days),
        max_outreach=_pick(override.max_outreach, defaults.max_outreach),
    )


def _pick(override: int | None, default: int) -> int:
    return default if override is None else override


def job_is_closed(job: Job) -> bool:
    """Closed since it was opened: a close at or after `opened_at` holds, whatever T is.

    A close recorded with a `closed_at` later than T still counts (a close processed before a
    late candidate update, or a late `job.opened` with an earlier `opened_at`): requesting then
    would only be cancelled at once. A close before `opened_at` was followed by a reopen.
    A close at exactly `opened_at` counts as closed: "not closed since" includes that instant.
    """
    return job.closed_at is not None and job.closed_at >= job.opened_at


def email_problem(candidate: Candidate) -> str | None:
    """Why the candidate's email cannot be used (rule 4), or None when it can."""
    if candidate.email is None or not candidate.email.strip():
        return "no email address"
    if not candidate.email_syntax_valid:
        return "email address is not syntactically valid"
    if candidate.email_status is EmailStatus.BOUNCED:
        return "email status is bounced"
    if candidate.email_status is EmailStatus.INVALID:
        return "email status is invalid"
    if candidate.email_suppressed:
        return "the mailer reported this address bounced or rejected"
    return None


def consent_expired(candidate: Candidate, at: datetime) -> bool:
    """Rule 5 failing: consent ends at or before T (the spec needs it to end strictly after)."""
    return candidate.consent_expires_at is not None and candidate.consent_expires_at <= at


@lru_cache(maxsize=256)
def _normalised(credentials: tuple[str, ...]) -> frozenset[str]:
    # Jobs are evaluated against every candidate of a pool: normalise their lists once.
    return norm_set(credentials)


def missing_required(job: Job, candidate: Candidate) -> tuple[str, ...]:
    """The job's required credentials (job spelling, job order) the candidate lacks."""
    have = norm_set(candidate.credentials)
    missing: list[str] = []
    seen: set[str] = set()
    for credential in job.required_credentials:
        key = norm(credential)
        if key not in have and key not in seen:
            seen.add(key)
            missing.append(credential)
    return tuple(missing)


def preferred_matched(job: Job, candidate: Candidate) -> int:
    """How many of the job's distinct (normalised) preferred credentials the candidate has."""
    return len(_normalised(job.preferred_credentials) & norm_set(candidate.credentials))


def cooldown_blocker(
    candidate_outreach: Iterable[PastOutreach], at: datetime, cooldown_days: int
) -> PastOutreach | None:
    """An outreach with `requested_at` within `cooldown_days` of T on either side, if any:
    in (T - cooldown_days, T + cooldown_days) (rule 9).

    The spec writes the interval as (T - cooldown_days, T], looking back from T, and its
    policy table as "at most one outreach per candidate, across all jobs, in this many days".
    The two agree while events are decided in event-time order (one worker, a replay): no
    outreach after T exists yet. They part when a decision comes out of order: a worker that
    is behind deciding a job opened at 09:30 after another worker decided the 10:00 one. Read
    backwards only, the 10:00 outreach would not block the 09:30 one and the candidate would be
    contacted twice within the cooldown; counting both sides keeps the "at most one in this
    many days" that rule 9 exists for, however many workers decide. One requested exactly
    `cooldown_days` away is outside; with `cooldown_days` = 0 the interval is empty.
    """
    start = days_before(at, cooldown_days)
    end = days_after(at, cooldown_days)
    blockers = [o for o in candidate_outreach if start < o.requested_at < end]
    # The latest one explains best "until when"; the choice affects only the detail text.
    return max(blockers, key=lambda o: o.requested_at) if blockers else None


@dataclass(frozen=True, slots=True)
class _Case:
    """One candidate, one job, one time: what every rule check looks at."""

    candidate: Candidate
    job: Job
    at: datetime
    policy: Policy
    # This tenant's outreach for this candidate only.
    outreach: tuple[PastOutreach, ...]


def first_failure(
    candidate: Candidate,
    job: Job,
    at: datetime,
    policy: Policy,
    past_outreach: Iterable[PastOutreach],
) -> Failure | None:
    """The first of rules 1-9 the candidate fails for `job` at `at`, or None if eligible.

    `policy` is the effective one (see `effective_policy`). `past_outreach` may hold anything:
    only this tenant's outreach for this candidate is considered (cancelled outreach included,
    as the spec requires). The cap is not a rule of one candidate: see `worker.rules.ranking`.
    """
    mine = tuple(
        o
        for o in past_outreach
        if o.tenant_id == job.tenant_id and o.candidate_id == candidate.candidate_id
    )
    case = _Case(candidate, job, at, policy, mine)
    for check in _RULES:
        failure = check(case)
        if failure is not None:
            return failure
    return None


def _same_tenant(case: _Case) -> Failure | None:
    if case.candidate.tenant_id != case.job.tenant_id:
        return Failure(Exclusion.OTHER_TENANT, "the candidate belongs to another tenant")
    return None


def _job_open(case: _Case) -> Failure | None:
    job = case.job
    if case.at < job.opened_at:
        return Failure(Exclusion.JOB_NOT_YET_OPEN, f"the job opens at {job.opened_at.isoformat()}")
    if job.closed_at is not None and job_is_closed(job):
        return Failure(Exclusion.JOB_CLOSED, f"the job closed at {job.closed_at.isoformat()}")
    return None


def _contactable(case: _Case) -> Failure | None:
    if case.candidate.do_not_contact:
        return Failure(Exclusion.DO_NOT_CONTACT, "the candidate is marked do-not-contact")
    return None


def _email_usable(case: _Case) -> Failure | None:
    problem = email_problem(case.candidate)
    return None if problem is None else Failure(Exclusion.EMAIL_UNUSABLE, problem)


def _consent_current(case: _Case) -> Failure | None:
    expires = case.candidate.consent_expires_at
    if expires is not None and consent_expired(case.candidate, case.at):
        return Failure(Exclusion.CONSENT_EXPIRED, f"contact consent ended at {expires.isoformat()}")
    return None


def _dormant(case: _Case) -> Failure | None:
    last = case.candidate.last_activity_at
    if last is None:
        return Failure(Exclusion.NO_ACTIVITY, "no recorded activity")
    days = inactive_days(case.at, last)
    policy = case.policy
    window = f"the policy asks for {policy.min_inactive_days} to {policy.max_inactive_days}"
    if days < policy.min_inactive_days:
        return Failure(Exclusion.NOT_DORMANT_ENOUGH, f"inactive {days} days; {window}")
    if days > policy.max_inactive_days:
        return Failure(Exclusion.INACTIVE_TOO_LONG, f"inactive {days} days; {window}")
    return None


def _has_required(case: _Case) -> Failure | None:
    missing = missing_required(case.job, case.candidate)
    if missing:
        detail = "missing required credentials: " + ", ".join(missing)
        return Failure(Exclusion.MISSING_CREDENTIALS, detail)
    return None


def _not_requested_before(case: _Case) -> Failure | None:
    earlier = [o.requested_at for o in case.outreach if o.job_id == case.job.job_id]
    if earlier:
        return Failure(
            Exclusion.ALREADY_REQUESTED,
            f"outreach for this job was already requested, at {min(earlier).isoformat()}",
        )
    return None


def _not_in_cooldown(case: _Case) -> Failure | None:
    blocker = cooldown_blocker(case.outreach, case.at, case.policy.cooldown_days)
    if blocker is None:
        return None
    # The cooldown counts both sides of T (docs/worker.md, "Cooldown and caps under
    # concurrency"): an explanation read after later jobs were decided must say which side.
    side = "before" if blocker.requested_at <= case.at else "after"
    return Failure(
        Exclusion.COOLDOWN,
        f"outreach for job {blocker.job_id} was requested at "
        f"{blocker.requested_at.isoformat()}, within {case.policy.cooldown_days} days {side} "
        f"this job's time",
    )


# Rules 1-9, in the spec's order: the first failure is the one reported.
_RULES: tuple[Callable[[_Case], Failure | None], ...] = (
    _same_tenant,
    _job_open,
    _contactable,
    _email_usable,
    _consent_current,
    _dormant,
    _has_required,
    _not_requested_before,
    _not_in_cooldown,
)


def first_failing_rule(
    candidate: Candidate,
    job: Job,
    at: datetime,
    policy: Policy,
    past_outreach: Iterable[PastOutreach],
) -> Exclusion | None:
    """`first_failure` without the detail: the rule only, for comparisons and counts."""
    failure = first_failure(candidate, job, at, policy, past_outreach)
    return None if failure is None else failure.rule
