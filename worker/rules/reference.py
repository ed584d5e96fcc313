"""The reference matcher: the whole of REENGAGEMENT.md in plain Python over in-memory values.

It is the oracle the SQL matcher is tested against, and what `preview` uses to say which rule
excluded a candidate. It holds the pool in memory (except `exclusion_counts`, which streams),
so the worker itself never runs it on a real pool: the database does that matching.

Keep the signatures stable: `worker/store` tests compare their output to `reference_match`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from worker.rules.days import days_before
from worker.rules.eligibility import (
    Exclusion,
    Failure,
    effective_policy,
    first_failure,
    inactive_days,
    preferred_matched,
)
from worker.rules.model import Candidate, Job, PastOutreach, Policy
from worker.rules.ranking import rank_key, remaining_capacity, take_within_cap
from worker.rules.reason import Reason, build_reason


@dataclass(frozen=True, slots=True)
class Decision:
    """One outreach to request: candidate, position in the job's sequence, and why."""

    job_id: str
    candidate_id: str
    rank: int
    inactive_days: int
    preferred_matched: int
    reason: Reason


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one candidate of the pool: requested (`decision`) or not (`failure`)."""

    tenant_id: str
    candidate_id: str
    decision: Decision | None
    failure: Failure | None

    @property
    def exclusion(self) -> Exclusion | None:
        return None if self.failure is None else self.failure.rule


class OutreachHistory:
    """A tenant's past outreach, indexed for rule 8, rule 9 and the cap.

    Other tenants' outreach is dropped on the way in; a (job, candidate) pair counts once
    (the store keeps it unique; the index does not rely on that).
    """

    def __init__(self, tenant_id: str, past_outreach: Iterable[PastOutreach] = ()) -> None:
        self.tenant_id = tenant_id
        self._by_candidate: dict[str, list[PastOutreach]] = defaultdict(list)
        self._candidates_by_job: dict[str, set[str]] = defaultdict(set)
        for outreach in past_outreach:
            self.add(outreach)

    def add(self, outreach: PastOutreach) -> None:
        if outreach.tenant_id != self.tenant_id:
            return
        self._by_candidate[outreach.candidate_id].append(outreach)
        self._candidates_by_job[outreach.job_id].add(outreach.candidate_id)

    def of_candidate(self, candidate_id: str) -> Sequence[PastOutreach]:
        return self._by_candidate.get(candidate_id, ())

    def requests_for(self, job_id: str) -> int:
        return len(self._candidates_by_job.get(job_id, ()))


@dataclass(frozen=True, slots=True)
class _Eligible:
    candidate: Candidate
    inactive_days: int
    preferred_matched: int

    @classmethod
    def of(cls, candidate: Candidate, job: Job, at: datetime) -> _Eligible:
        if candidate.last_activity_at is None:  # rule 6 excludes these before ranking
            raise ValueError("an eligible candidate has a last activity")
        return cls(
            candidate,
            inactive_days(at, candidate.last_activity_at),
            preferred_matched(job, candidate),
        )


def explain(
    job: Job,
    at: datetime,
    policy: Policy,
    candidates: Iterable[Candidate],
    past_outreach: Iterable[PastOutreach],
) -> list[Outcome]:
    """Every candidate's outcome for `job` at `at` under the effective `policy`.

    Order: the requested ones by rank, then the eligible ones beyond the cap in ranking order,
    then the excluded ones by candidate id (byte order).
    """
    history = OutreachHistory(job.tenant_id, past_outreach)
    eligible: list[_Eligible] = []
    excluded: list[Outcome] = []
    for candidate in candidates:
        failure = first_failure(
            candidate, job, at, policy, history.of_candidate(candidate.candidate_id)
        )
        if failure is not None:
            excluded.append(Outcome(candidate.tenant_id, candidate.candidate_id, None, failure))
            continue
        eligible.append(_Eligible.of(candidate, job, at))
    eligible.sort(
        key=lambda e: rank_key(e.preferred_matched, e.inactive_days, e.candidate.candidate_id)
    )
    so_far = history.requests_for(job.job_id)
    outcomes = [
        Outcome(job.tenant_id, e.candidate.candidate_id, _decide(job, at, rank, e), None)
        for rank, e in take_within_cap(eligible, so_far, policy.max_outreach)
    ]
    cap = _cap_failure(so_far, policy.max_outreach)
    outcomes += [
        Outcome(job.tenant_id, e.candidate.candidate_id, None, cap)
        for e in eligible[len(outcomes) :]
    ]
    excluded.sort(key=lambda o: (o.candidate_id.encode("utf-8"), o.tenant_id.encode("utf-8")))
    return outcomes + excluded


def _decide(job: Job, at: datetime, rank: int, eligible: _Eligible) -> Decision:
    return Decision(
        job_id=job.job_id,
        candidate_id=eligible.candidate.candidate_id,
        rank=rank,
        inactive_days=eligible.inactive_days,
        preferred_matched=eligible.preferred_matched,
        reason=build_reason(eligible.candidate, job, at),
    )


def _cap_failure(requests_so_far: int, max_outreach: int) -> Failure:
    room = remaining_capacity(requests_so_far, max_outreach)
    return Failure(
        Exclusion.CAP_REACHED,
        f"ranked after the {room} the cap left room for "
        f"(cap {max_outreach}, {requests_so_far} requested before this match)",
    )


def reference_match(
    job: Job,
    at: datetime,
    policy: Policy,
    candidates: Iterable[Candidate],
    past_outreach: Iterable[PastOutreach],
) -> list[Decision]:
    """The outreach to request for `job` at `at`, in rank order.

    `policy` is the effective policy (`effective_policy(job, defaults)`). `past_outreach` is
    every outreach ever requested (any status: cancelled ones count for rules 8, 9 and the cap).

    Rule 9 counts outreach within `cooldown_days` of T on both sides, (T - cooldown_days,
    T + cooldown_days): the spec's (T - cooldown_days, T] whenever decisions come in event-time
    order, and still "at most one outreach per candidate in this many days" when they do not
    (`cooldown_blocker`). One requested exactly `cooldown_days` away does not block. Within one
    job's pass each candidate appears once, so the pass never puts its own candidates in
    cooldown.
    """
    return [o.decision for o in explain(job, at, policy, candidates, past_outreach) if o.decision]


def exclusion_counts(
    job: Job,
    at: datetime,
    policy: Policy,
    candidates: Iterable[Candidate],
    past_outreach: Iterable[PastOutreach],
) -> dict[Exclusion, int]:
    """How many candidates each rule excluded (every rule present, zeros included).

    Streams `candidates` once and keeps none of them, so `preview` can feed it a database
    cursor: the cap needs only the number of eligible candidates, not their order.
    """
    history = OutreachHistory(job.tenant_id, past_outreach)
    counts = dict.fromkeys(Exclusion, 0)
    eligible = 0
    for candidate in candidates:
        failure = first_failure(
            candidate, job, at, policy, history.of_candidate(candidate.candidate_id)
        )
        if failure is None:
            eligible += 1
        else:
            counts[failure.rule] += 1
    room = remaining_capacity(history.requests_for(job.job_id), policy.max_outreach)
    counts[Exclusion.CAP_REACHED] = max(0, eligible - room)
    return counts


def outcome_for(
    candidate: Candidate,
    job: Job,
    at: datetime,
    policy: Policy,
    past_outreach: Iterable[PastOutreach],
    *,
    decisions: Sequence[Decision],
) -> Outcome:
    """One candidate's outcome, given the match's decisions (from the SQL matcher or
    `reference_match`): `preview --explain` without holding the pool in memory.

    A candidate who passes every rule and is not among the decisions was beyond the cap.
    """
    failure = first_failure(candidate, job, at, policy, past_outreach)
    if failure is not None:
        return Outcome(candidate.tenant_id, candidate.candidate_id, None, failure)
    for decision in decisions:
        if decision.job_id == job.job_id and decision.candidate_id == candidate.candidate_id:
            return Outcome(candidate.tenant_id, candidate.candidate_id, decision, None)
    history = OutreachHistory(job.tenant_id, past_outreach)
    return Outcome(
        candidate.tenant_id,
        candidate.candidate_id,
        None,
        _cap_failure(history.requests_for(job.job_id), policy.max_outreach),
    )


def jobs_for_reverse_match(
    tenant_id: str, at: datetime, jobs: Iterable[Job], window_days: int
) -> list[Job]:
    """The tenant's jobs opened in [T - window, T], oldest first (ties: job id, byte order).

    Closed jobs are kept here and excluded by rule 2, so an explanation can say so.
    """
    start = days_before(at, window_days)
    window = [j for j in jobs if j.tenant_id == tenant_id and start <= j.opened_at <= at]
    return sorted(window, key=lambda j: (j.opened_at, j.job_id.encode("utf-8")))


def reference_reverse_match(
    candidate: Candidate,
    at: datetime,
    jobs: Iterable[Job],
    defaults: Policy,
    past_outreach: Iterable[PastOutreach],
) -> list[Decision]:
    """Reverse matching after a candidate update at `at` (the snapshot's `updated_at`).

    The candidate is evaluated against each job in the window, oldest first, with the same
    rules and each job's effective policy. A request made for an earlier job in this pass is
    outreach at T, which is inside the cooldown around T whenever cooldown_days > 0: so with
    a cooldown the pass requests at most one job, the oldest that accepts the candidate.
    """
    history = OutreachHistory(candidate.tenant_id, past_outreach)
    decisions: list[Decision] = []
    window = defaults.reverse_match_window_days
    for job in jobs_for_reverse_match(candidate.tenant_id, at, jobs, window):
        policy = effective_policy(job, defaults)
        mine = history.of_candidate(candidate.candidate_id)
        if first_failure(candidate, job, at, policy, mine) is not None:
            continue
        so_far = history.requests_for(job.job_id)
        if remaining_capacity(so_far, policy.max_outreach) == 0:
            continue
        decisions.append(_decide(job, at, so_far + 1, _Eligible.of(candidate, job, at)))
        history.add(PastOutreach(job.tenant_id, job.job_id, candidate.candidate_id, at))
    return decisions
