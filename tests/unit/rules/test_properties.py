"""Invariants of the reference matcher over random pools, jobs, policies and histories."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.rules.factories import DAY, TENANT, T
from tests.unit.rules.strategies import jobs, policies, pools_with_history
from worker.rules.eligibility import Exclusion, first_failure, inactive_days, preferred_matched
from worker.rules.model import Candidate, EmailStatus, Job, PastOutreach, Policy
from worker.rules.ranking import rank_key, remaining_capacity
from worker.rules.reason import build_reason
from worker.rules.reference import (
    exclusion_counts,
    explain,
    outcome_for,
    reference_match,
    reference_reverse_match,
)

PROPERTY = settings(max_examples=150, deadline=None)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Job, Policy, list[Candidate], list[PastOutreach]]:
    pool, past = draw(pools_with_history())
    return draw(jobs()), draw(policies), pool, past


def _requests_before(job: Job, past: list[PastOutreach]) -> int:
    return len({o.candidate_id for o in past if o.tenant_id == TENANT and o.job_id == job.job_id})


def _key(job: Job, candidate: Candidate) -> tuple[int, int, bytes]:
    assert candidate.last_activity_at is not None
    return rank_key(
        preferred_matched(job, candidate),
        inactive_days(T, candidate.last_activity_at),
        candidate.candidate_id,
    )


@PROPERTY
@given(scenarios())
def test_match_invariants(
    scenario: tuple[Job, Policy, list[Candidate], list[PastOutreach]],
) -> None:
    job, policy, pool, past = scenario
    decisions = reference_match(job, T, policy, pool, past)
    before = _requests_before(job, past)
    by_id = {c.candidate_id: c for c in pool}

    # Ranks continue the job's sequence without gaps, and never exceed the cap.
    assert [d.rank for d in decisions] == list(range(before + 1, before + 1 + len(decisions)))
    assert len(decisions) <= remaining_capacity(before, policy.max_outreach)

    # Nobody excluded by a rule is requested; nobody is requested twice.
    assert len({d.candidate_id for d in decisions}) == len(decisions)
    chosen = [by_id[d.candidate_id] for d in decisions]
    for candidate in chosen:
        assert first_failure(candidate, job, T, policy, past) is None

    # Strictly ordered by the key, and no eligible candidate outranks one who was taken.
    keys = [_key(job, c) for c in chosen]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    eligible = [c for c in pool if first_failure(c, job, T, policy, past) is None]
    assert len(decisions) == min(len(eligible), remaining_capacity(before, policy.max_outreach))
    if decisions:
        left_out = [
            c for c in eligible if c.candidate_id not in {d.candidate_id for d in decisions}
        ]
        assert all(_key(job, c) > keys[-1] for c in left_out)

    # Each reason depends on its own candidate and the job only.
    for decision, candidate in zip(decisions, chosen, strict=True):
        assert decision.reason == build_reason(candidate, job, T)
        assert decision.inactive_days == decision.reason.inactive_days
        assert policy.min_inactive_days <= decision.inactive_days <= policy.max_inactive_days


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_pool_order_does_not_matter(
    scenario: tuple[Job, Policy, list[Candidate], list[PastOutreach]], random: object
) -> None:
    job, policy, pool, past = scenario
    shuffled = list(pool)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    history = list(reversed(past))
    assert reference_match(job, T, policy, shuffled, history) == reference_match(
        job, T, policy, pool, past
    )


@PROPERTY
@given(scenarios())
def test_explanations_counts_and_decisions_agree(
    scenario: tuple[Job, Policy, list[Candidate], list[PastOutreach]],
) -> None:
    job, policy, pool, past = scenario
    decisions = reference_match(job, T, policy, pool, past)
    outcomes = explain(job, T, policy, pool, past)
    counts = exclusion_counts(job, T, policy, iter(pool), iter(past))

    assert len(outcomes) == len(pool)
    assert [o.decision for o in outcomes if o.decision is not None] == decisions
    assert all((o.decision is None) != (o.failure is None) for o in outcomes)
    tally = dict.fromkeys(Exclusion, 0)
    for outcome in outcomes:
        if outcome.exclusion is not None:
            tally[outcome.exclusion] += 1
    assert counts == tally
    assert sum(counts.values()) + len(decisions) == len(pool)

    for candidate, outcome in zip(
        sorted(pool, key=lambda c: (c.candidate_id, c.tenant_id)),
        sorted(outcomes, key=lambda o: (o.candidate_id, o.tenant_id)),
        strict=True,
    ):
        assert outcome_for(candidate, job, T, policy, past, decisions=decisions) == outcome
        if candidate.tenant_id != TENANT:
            assert outcome.exclusion is Exclusion.OTHER_TENANT


@st.composite
def reverse_scenarios(
    draw: st.DrawFn,
) -> tuple[Candidate, list[Job], Policy, list[PastOutreach]]:
    pool, past = draw(pools_with_history(max_size=5).filter(lambda p: bool(p[0])))
    candidate = pool[0]
    if draw(st.booleans()):
        # Mostly contactable, so that passes request something and cooldown has work to do.
        candidate = dataclasses.replace(
            candidate,
            tenant_id=TENANT,
            email="x@example.com",
            email_syntax_valid=True,
            email_status=EmailStatus.UNKNOWN,
            email_suppressed=False,
            do_not_contact=False,
            consent_expires_at=None,
            last_activity_at=T - draw(st.integers(180, 450)) * DAY,
        )
    offsets = draw(st.lists(st.integers(-35, 1), min_size=1, max_size=6))
    open_jobs = [
        draw(jobs(job_id=f"J{n}", opened_at=T + offset * DAY))
        for n, offset in enumerate(offsets, start=1)
    ]
    return candidate, open_jobs, draw(policies), past


@PROPERTY
@given(reverse_scenarios())
def test_reverse_match_invariants(
    scenario: tuple[Candidate, list[Job], Policy, list[PastOutreach]],
) -> None:
    candidate, open_jobs, defaults, past = scenario
    decisions = reference_reverse_match(candidate, T, open_jobs, defaults, past)
    by_id = {j.job_id: j for j in open_jobs}
    window_start = T - defaults.reverse_match_window_days * DAY

    if defaults.cooldown_days > 0:
        assert len(decisions) <= 1
    assert len({d.job_id for d in decisions}) == len(decisions)
    opened = [by_id[d.job_id].opened_at for d in decisions]
    assert opened == sorted(opened)
    for decision in decisions:
        job = by_id[decision.job_id]
        assert job.tenant_id == candidate.tenant_id
        assert window_start <= job.opened_at <= T
        assert decision.candidate_id == candidate.candidate_id
        assert decision.rank == _requests_before(job, past) + 1
        assert decision.reason == build_reason(candidate, job, T)
