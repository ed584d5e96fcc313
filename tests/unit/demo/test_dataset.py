"""The demo data set: deterministic per seed, valid on the wire, and rich enough that every
rule of the funnel has someone to exclude (checked with the reference rules)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.integration.worker.pools import to_candidate
from worker.contracts.decode import Decoded, decode
from worker.demo.dataset import DemoOptions, build
from worker.ingest.translate import job_of
from worker.rules.eligibility import Exclusion, effective_policy
from worker.rules.model import PastOutreach, Policy
from worker.rules.reference import exclusion_counts, reference_match

SMALL = DemoOptions(seed=3, candidates=400, jobs=4)
TYPES = frozenset({"ats.candidate.updated", "ats.job.opened"})


as_rules_see_it = to_candidate


def test_the_same_seed_gives_the_same_bytes() -> None:
    first, second = build(SMALL), build(SMALL)
    assert [m.value for m in first.candidate_messages()] == [
        m.value for m in second.candidate_messages()
    ]
    assert [m.value for m in first.job_messages()] == [m.value for m in second.job_messages()]


def test_another_seed_is_another_data_set_in_other_tenants() -> None:
    first, other = build(SMALL), build(DemoOptions(seed=4, candidates=400, jobs=4))
    assert set(first.tenant_ids).isdisjoint(other.tenant_ids)
    assert [c.first_name for c in first.candidates] != [c.first_name for c in other.candidates]


def test_sizes_and_tenants() -> None:
    dataset = build(DemoOptions(seed=1, candidates=1000, jobs=5))
    assert len(dataset.candidates) == 1000
    assert len(dataset.jobs) == 5
    per_tenant = Counter(c.tenant_id for c in dataset.candidates)
    assert sorted(per_tenant.values()) == [400, 600]
    assert {j.tenant_id for j in dataset.jobs} == set(dataset.tenant_ids)
    keys = [(c.tenant_id, c.candidate_id) for c in dataset.candidates]
    assert len(set(keys)) == len(keys)


def test_too_small_a_data_set_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        build(DemoOptions(candidates=1, jobs=4))


def test_every_event_decodes_under_the_contract_with_the_recommended_key() -> None:
    dataset = build(SMALL)
    for message in dataset.candidate_messages() + dataset.job_messages():
        assert isinstance(decode(message.value, TYPES), Decoded)
    first = dataset.candidate_messages()[0]
    assert first.key == f"{dataset.candidates[0].tenant_id}:C-00001".encode()


def test_the_times_are_fixed_not_the_wall_clock() -> None:
    at = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    dataset = build(DemoOptions(seed=3, candidates=100, jobs=2, at=at))
    assert min(j.opened_at for j in dataset.jobs) == at
    assert all(c.updated_at < at for c in dataset.candidates)


def test_every_rule_excludes_someone_and_jobs_request_someone() -> None:
    """Replays the default demo through the reference rules, jobs in order, as the worker
    would: each funnel stage has work in at least one job, and every job requests."""
    dataset = build(DemoOptions())
    pool = [as_rules_see_it(c) for c in dataset.candidates]
    past: list[PastOutreach] = []
    totals: Counter[Exclusion] = Counter()
    for opened in dataset.jobs:
        job = job_of(opened)
        policy = effective_policy(job, Policy())
        mine = [c for c in pool if c.tenant_id == job.tenant_id]
        totals.update(exclusion_counts(job, job.opened_at, policy, mine, past))
        decisions = reference_match(job, job.opened_at, policy, mine, past)
        assert decisions, job.job_id
        past += [
            PastOutreach(job.tenant_id, job.job_id, d.candidate_id, job.opened_at)
            for d in decisions
        ]
    funnel_rules = set(Exclusion) - {
        Exclusion.OTHER_TENANT,
        Exclusion.JOB_NOT_YET_OPEN,
        Exclusion.JOB_CLOSED,
        Exclusion.ALREADY_REQUESTED,
    }
    assert {rule for rule in funnel_rules if totals[rule] == 0} == set()
    # A demo that finishes in seconds at the catcher's pace.
    assert 100 <= len(past) <= 400
