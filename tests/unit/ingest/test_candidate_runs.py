"""Snapshots stored in runs that never name one candidate twice: the upsert returns one row
per candidate, so a repeat inside a run would be decided on the state of its later twin."""

from __future__ import annotations

from worker.contracts.ats import CandidateUpdated
from worker.contracts.examples import example_messages
from worker.ingest.candidates import split_into_runs


def _update(tenant_id: str, candidate_id: str) -> CandidateUpdated:
    data = example_messages()["ats.candidate.updated"].event.data
    assert isinstance(data, CandidateUpdated)
    return data.model_copy(update={"tenant_id": tenant_id, "candidate_id": candidate_id})


def _ids(runs: list[list[CandidateUpdated]]) -> list[list[str]]:
    return [[f"{u.tenant_id}/{u.candidate_id}" for u in run] for run in runs]


def test_distinct_candidates_make_one_run() -> None:
    updates = [_update("acme", "c-1"), _update("acme", "c-2"), _update("globex", "c-1")]
    assert _ids(split_into_runs(updates)) == [["acme/c-1", "acme/c-2", "globex/c-1"]]


def test_a_repeat_starts_a_new_run_and_order_is_kept() -> None:
    updates = [
        _update("acme", "c-1"),
        _update("acme", "c-2"),
        _update("acme", "c-1"),  # its second snapshot: after the first is decided
        _update("acme", "c-3"),
        _update("acme", "c-2"),  # not in the current run: no split
        _update("acme", "c-2"),
    ]
    assert _ids(split_into_runs(updates)) == [
        ["acme/c-1", "acme/c-2"],
        ["acme/c-1", "acme/c-3", "acme/c-2"],
        ["acme/c-2"],
    ]


def test_no_updates_no_runs() -> None:
    assert split_into_runs([]) == []
