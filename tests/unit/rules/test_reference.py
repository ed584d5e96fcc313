"""The reference matcher end to end: ranking, the cap, explanations, counts, reverse matching."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.rules.factories import (
    DAY,
    DEFAULT_POLICY,
    MICROSECOND,
    T,
    make_candidate,
    make_job,
    outreach,
)
from worker.rules.eligibility import Exclusion, effective_policy
from worker.rules.model import Candidate, Policy, PolicyOverride
from worker.rules.reason import build_reason
from worker.rules.reference import (
    exclusion_counts,
    explain,
    jobs_for_reverse_match,
    outcome_for,
    reference_match,
    reference_reverse_match,
)


def pool_member(candidate_id: str, days: int, credentials: tuple[str, ...]) -> Candidate:
    return make_candidate(
        candidate_id=candidate_id, last_activity_at=T - days * DAY, credentials=credentials
    )


BASE = ("SQL", "Tableau")
POOL = [
    pool_member("c-plain-old", 400, BASE),
    pool_member("c-python", 300, (*BASE, "python")),
    pool_member("c-both", 420, (*BASE, "PYTHON", "dbt")),
    pool_member("c-plain-recent", 190, BASE),
    pool_member("C-tie", 190, BASE),
    make_candidate(candidate_id="c-dnc", do_not_contact=True),
    make_candidate(candidate_id="c-missing", credentials=("sql",)),
    make_candidate(candidate_id="c-other", tenant_id="globex"),
]


def test_order_and_ranks() -> None:
    decisions = reference_match(make_job(), T, DEFAULT_POLICY, POOL, ())
    assert [(d.rank, d.candidate_id) for d in decisions] == [
        (1, "c-both"),  # two preferred
        (2, "c-python"),  # one preferred
        (3, "C-tie"),  # none, 190 days, "C" < "c"
        (4, "c-plain-recent"),
        (5, "c-plain-old"),
    ]
    both = decisions[0]
    assert both.preferred_matched == 2
    assert both.inactive_days == 420
    assert both.job_id == "J1"
    assert both.reason == build_reason(POOL[2], make_job(), T)


def test_preferred_credentials_count_once_normalised() -> None:
    job = make_job(preferred_credentials=("Python", "PYTHON", " python", "dbt", "Go"))
    one_spelled_thrice = pool_member("a", 190, (*BASE, "python"))
    two_distinct = pool_member("b", 400, (*BASE, "DBT", "go"))
    decisions = reference_match(job, T, DEFAULT_POLICY, [one_spelled_thrice, two_distinct], ())
    assert [(d.candidate_id, d.preferred_matched) for d in decisions] == [("b", 2), ("a", 1)]
    assert decisions[1].reason.matched_preferred_credentials == ("Python",)


def test_cap_counts_earlier_requests_for_the_job() -> None:
    job = make_job(policy=PolicyOverride(max_outreach=4))
    earlier = (
        outreach("J1", T - 400 * DAY, candidate_id="old-1"),
        outreach("J1", T - 400 * DAY, candidate_id="old-2"),
        # A second row for the same pair (should the store ever hold one) counts once.
        outreach("J1", T - 300 * DAY, candidate_id="old-2"),
        # Other jobs and other tenants do not count toward J1's cap.
        outreach("J2", T - 400 * DAY, candidate_id="old-3"),
        outreach("J1", T - 400 * DAY, candidate_id="old-4", tenant_id="globex"),
    )
    policy = effective_policy(job, DEFAULT_POLICY)
    decisions = reference_match(job, T, policy, POOL, earlier)
    assert [(d.rank, d.candidate_id) for d in decisions] == [(3, "c-both"), (4, "c-python")]

    outcomes = {o.candidate_id: o for o in explain(job, T, policy, POOL, earlier)}
    assert outcomes["C-tie"].exclusion is Exclusion.CAP_REACHED
    assert outcomes["c-plain-old"].exclusion is Exclusion.CAP_REACHED

    counts = exclusion_counts(job, T, policy, POOL, earlier)
    assert counts[Exclusion.CAP_REACHED] == 3
    assert counts[Exclusion.DO_NOT_CONTACT] == 1
    assert counts[Exclusion.MISSING_CREDENTIALS] == 1
    assert counts[Exclusion.OTHER_TENANT] == 1
    assert sum(counts.values()) == len(POOL) - len(decisions)
    assert list(counts) == list(Exclusion)


def test_cap_already_full() -> None:
    policy = Policy(max_outreach=1)
    earlier = (outreach("J1", T - 400 * DAY, candidate_id="someone"),)
    assert reference_match(make_job(), T, policy, POOL, earlier) == []
    assert exclusion_counts(make_job(), T, policy, POOL, earlier)[Exclusion.CAP_REACHED] == 5


def test_cancelled_outreach_still_counts() -> None:
    # PastOutreach carries no status on purpose: every outreach ever requested counts.
    earlier = (outreach("J1", T - 500 * DAY, candidate_id="c-both"),)
    decisions = reference_match(make_job(), T, DEFAULT_POLICY, POOL, earlier)
    assert decisions[0].candidate_id == "c-python"
    assert decisions[0].rank == 2


def test_explain_orders_requested_then_capped_then_excluded() -> None:
    policy = Policy(max_outreach=2)
    outcomes = explain(make_job(), T, policy, POOL, ())
    assert [(o.candidate_id, o.exclusion) for o in outcomes] == [
        ("c-both", None),
        ("c-python", None),
        ("C-tie", Exclusion.CAP_REACHED),
        ("c-plain-recent", Exclusion.CAP_REACHED),
        ("c-plain-old", Exclusion.CAP_REACHED),
        ("c-dnc", Exclusion.DO_NOT_CONTACT),
        ("c-missing", Exclusion.MISSING_CREDENTIALS),
        ("c-other", Exclusion.OTHER_TENANT),
    ]
    assert outcomes[0].decision is not None
    assert outcomes[0].failure is None
    assert outcomes[2].failure is not None
    assert outcomes[2].failure.detail == (
        "ranked after the 2 the cap left room for (cap 2, 0 requested before this match)"
    )


def test_outcome_for_one_candidate_matches_explain() -> None:
    policy = Policy(max_outreach=2)
    job = make_job()
    decisions = reference_match(job, T, policy, POOL, ())
    for candidate, expected in zip(
        sorted(POOL, key=lambda c: c.candidate_id),
        sorted(explain(job, T, policy, POOL, ()), key=lambda o: o.candidate_id),
        strict=True,
    ):
        assert outcome_for(candidate, job, T, policy, (), decisions=decisions) == expected


def test_exclusion_counts_streams_a_generator_once() -> None:
    counts = exclusion_counts(make_job(), T, DEFAULT_POLICY, (c for c in POOL), iter(()))
    assert sum(counts.values()) == 3


def test_empty_pool() -> None:
    assert reference_match(make_job(), T, DEFAULT_POLICY, [], ()) == []
    assert set(exclusion_counts(make_job(), T, DEFAULT_POLICY, [], ()).values()) == {0}


# Reverse matching: T is the candidate's updated_at.

OLD = make_job(job_id="J-old", opened_at=T - 20 * DAY)
NEW = make_job(job_id="J-new", opened_at=T - 5 * DAY)
EDGE = make_job(job_id="J-edge", opened_at=T - 30 * DAY)
OUTSIDE = make_job(job_id="J-outside", opened_at=T - 30 * DAY - MICROSECOND)
LATER = make_job(job_id="J-later", opened_at=T + MICROSECOND)
CLOSED = make_job(job_id="J-closed", opened_at=T - 25 * DAY, closed_at=T - 24 * DAY)
FOREIGN = make_job(job_id="J-foreign", tenant_id="globex", opened_at=T - 10 * DAY)
ALL_JOBS = [NEW, LATER, OLD, OUTSIDE, FOREIGN, CLOSED, EDGE]


def test_reverse_window_is_inclusive_and_oldest_first() -> None:
    in_window = jobs_for_reverse_match("acme", T, ALL_JOBS, 30)
    assert [j.job_id for j in in_window] == ["J-edge", "J-closed", "J-old", "J-new"]


def test_reverse_ties_by_job_id_bytes() -> None:
    same = [make_job(job_id=i, opened_at=T - DAY) for i in ("b", "B", "a-10", "a-9")]
    assert [j.job_id for j in jobs_for_reverse_match("acme", T, same, 30)] == [
        "B",
        "a-10",
        "a-9",
        "b",
    ]


def test_reverse_cooldown_stops_after_the_first_claim() -> None:
    decisions = reference_reverse_match(make_candidate(), T, ALL_JOBS, DEFAULT_POLICY, ())
    assert [(d.job_id, d.rank) for d in decisions] == [("J-edge", 1)]


def test_reverse_without_cooldown_claims_every_open_job() -> None:
    policy = Policy(cooldown_days=0)
    earlier = (outreach("J-old", T - 40 * DAY, candidate_id="someone-else"),)
    decisions = reference_reverse_match(make_candidate(), T, ALL_JOBS, policy, earlier)
    assert [(d.job_id, d.rank) for d in decisions] == [
        ("J-edge", 1),
        ("J-old", 2),  # continues J-old's sequence
        ("J-new", 1),
    ]
    assert all(d.reason.inactive_days == 200 for d in decisions)


def test_reverse_skips_full_and_already_requested_jobs() -> None:
    full = make_job(job_id="J-full", opened_at=T - 29 * DAY, policy=PolicyOverride(max_outreach=1))
    earlier = (
        outreach("J-full", T - 40 * DAY, candidate_id="someone-else"),
        outreach("J-edge", T - 40 * DAY),  # this candidate, long ago
    )
    decisions = reference_reverse_match(
        make_candidate(), T, [*ALL_JOBS, full], DEFAULT_POLICY, earlier
    )
    assert [(d.job_id, d.rank) for d in decisions] == [("J-old", 1)]


def test_reverse_respects_cooldown_from_before() -> None:
    recent = (outreach("J-elsewhere", T - 3 * DAY),)
    assert reference_reverse_match(make_candidate(), T, ALL_JOBS, DEFAULT_POLICY, recent) == []


def test_reverse_uses_each_jobs_policy() -> None:
    strict = make_job(
        job_id="J-strict",
        opened_at=T - 29 * DAY,
        policy=PolicyOverride(min_inactive_days=300),
    )
    candidate = make_candidate(last_activity_at=T - 200 * DAY - timedelta(hours=1))
    decisions = reference_reverse_match(candidate, T, [strict, NEW], DEFAULT_POLICY, ())
    assert [d.job_id for d in decisions] == ["J-new"]


def test_reverse_never_crosses_tenants() -> None:
    foreign_candidate = make_candidate(tenant_id="globex")
    decisions = reference_reverse_match(foreign_candidate, T, ALL_JOBS, DEFAULT_POLICY, ())
    assert [d.job_id for d in decisions] == ["J-foreign"]
