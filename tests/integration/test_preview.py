"""`reengage preview` on a stored pool: the dry run agrees with the reference rules, writes
nothing, and explains one candidate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.worker.pools import T, as_job, job_opened, make_pool
from worker.commands.preview import build_report
from worker.ingest.translate import snapshot_of
from worker.preview.report import PreviewReport
from worker.rules.eligibility import Exclusion, effective_policy
from worker.rules.model import Candidate, Job, Policy
from worker.rules.reference import Outcome, exclusion_counts, explain, reference_match
from worker.store.candidates import erase_candidate, upsert_candidates
from worker.store.engine import create_store_engine
from worker.store.jobs import upsert_job
from worker.store.versioning import migrate


def _stored(url: str) -> None:
    migrate(url)
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            upsert_candidates(
                connection, [snapshot_of(u) for u in make_pool(seed=4, size=200).updates]
            )
            upsert_job(connection, as_job(job_opened(max_outreach=5)))
    finally:
        engine.dispose()


def test_preview_matches_the_reference_and_writes_nothing(database_url: str) -> None:
    _stored(database_url)
    pool = make_pool(seed=4, size=200).as_rules_see_it()
    job = as_job(job_opened(max_outreach=5))
    policy = effective_policy(job, Policy())
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            report = build_report(connection, job, T, Policy(), explain_candidate="C-0001")
            outreach_rows = connection.exec_driver_sql("SELECT count(*) FROM outreach").scalar_one()
    finally:
        engine.dispose()
    expected = reference_match(job, T, policy, pool, [])
    assert [r.decision for r in report.requested] == expected
    assert dict(report.exclusions) == exclusion_counts(job, T, policy, pool, [])
    assert report.exclusions[Exclusion.CAP_REACHED] > 0
    assert report.explained is not None
    assert report.explained.outcome == _reference_outcome(job, pool, "C-0001")
    assert outreach_rows == 0


def _reference_outcome(job: Job, pool: Sequence[Candidate], candidate_id: str) -> Outcome:
    policy = effective_policy(job, Policy())
    (outcome,) = [o for o in explain(job, T, policy, pool, []) if o.candidate_id == candidate_id]
    return outcome


def test_preview_explains_each_kind_of_outcome_as_the_reference_does(database_url: str) -> None:
    """One candidate per outcome the reference gives this pool: requested, beyond the cap,
    and the first one each rule excluded."""
    _stored(database_url)
    pool = make_pool(seed=4, size=200).as_rules_see_it()
    job = as_job(job_opened(max_outreach=5))
    outcomes = explain(job, T, effective_policy(job, Policy()), pool, [])
    first_of_each: dict[Exclusion | None, Outcome] = {}
    for outcome in outcomes:
        first_of_each.setdefault(outcome.exclusion, outcome)
    assert {None, Exclusion.CAP_REACHED, Exclusion.DO_NOT_CONTACT} <= first_of_each.keys()
    emails = {c.candidate_id: c.email for c in pool}
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            for expected in first_of_each.values():
                report = build_report(
                    connection, job, T, Policy(), explain_candidate=expected.candidate_id
                )
                assert report.explained is not None
                assert report.explained.outcome == expected, expected.exclusion
                assert report.explained.contact is not None
                assert report.explained.contact.email == emails[expected.candidate_id]
    finally:
        engine.dispose()


def test_preview_command_prints_json_and_rejects_unknown_jobs(sqlite_url: str) -> None:
    _stored(sqlite_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env["REENGAGE_DATABASE_URL"] = sqlite_url

    def preview(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "worker.entry", "preview", "--tenant", "acme", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    shown = preview("--job", "J-1", "--json", "--explain", "C-0002")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert len(document["would_request"]) == 5
    expected = _reference_outcome(
        as_job(job_opened(max_outreach=5)), make_pool(seed=4, size=200).as_rules_see_it(), "C-0002"
    )
    explained = document["explain"]
    assert explained["candidate_id"] == "C-0002"
    if expected.decision is not None:
        assert (explained["outcome"], explained["rank"]) == ("requested", expected.decision.rank)
    else:
        assert expected.failure is not None
        assert (explained["outcome"], explained["rule"], explained["detail"]) == (
            "excluded",
            expected.failure.rule.value,
            expected.failure.detail,
        )
    assert "@example.com" not in shown.stdout.replace("***@example.com", "")
    table = preview("--job", "J-1")
    assert table.returncode == 0 and "Senior Data Analyst" in table.stdout
    missing = preview("--job", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr


def _preview_of(database: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env["REENGAGE_DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(
        [sys.executable, "-m", "worker.entry", "preview", "--tenant", "acme", "--job", "J-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_preview_of_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    result = _preview_of(tmp_path / "not-yet.db")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "REENGAGE_DATABASE_URL" in line and "reengage migrate" in line
    assert list(tmp_path.iterdir()) == []


def test_preview_of_a_file_in_no_directory_says_the_database_cannot_be_reached(
    tmp_path: Path,
) -> None:
    """Not "run `reengage migrate`": migrate could not create it either."""
    result = _preview_of(tmp_path / "no-such-directory" / "x.db")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "REENGAGE_DATABASE_URL: cannot reach the database" in line


def test_an_erased_candidate_is_not_in_the_pool_until_a_newer_snapshot(database_url: str) -> None:
    _stored(database_url)
    pool = make_pool(seed=4, size=200)
    job = as_job(job_opened(max_outreach=5))
    updates = {u.candidate_id: u for u in pool.updates}
    engine = create_store_engine(database_url)

    def report_of(explain: str) -> PreviewReport:
        with engine.connect() as connection:
            return build_report(connection, job, T, Policy(), explain_candidate=explain)

    try:
        with engine.begin() as connection:
            erase_candidate(connection, "acme", "C-0001", T - timedelta(days=1))
        erased = report_of("C-0001")
        with engine.begin() as connection:  # the ATS sends the candidate again, later
            again = updates["C-0001"].model_copy(update={"updated_at": T - timedelta(hours=1)})
            upsert_candidates(connection, [snapshot_of(again)])
        back = report_of("C-0001")
    finally:
        engine.dispose()
    assert erased.explained is not None and erased.explained.outcome is None  # not in the pool
    assert sum(erased.exclusions.values()) + len(erased.requested) == 199
    assert back.explained is not None
    assert back.explained.outcome == _reference_outcome(job, pool.as_rules_see_it(), "C-0001")
    assert sum(back.exclusions.values()) + len(back.requested) == 200


@pytest.mark.parametrize("output", [["--json"], []])
def test_preview_into_a_pipe_closed_early_stops_quietly(sqlite_url: str, output: list[str]) -> None:
    """`reengage preview ... | head`: the reader going away is no error of ours to log."""
    _stored(sqlite_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env["REENGAGE_DATABASE_URL"] = sqlite_url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker.entry",
            "preview",
            "--tenant",
            "acme",
            "--job",
            "J-1",
            *output,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # nobody reads: the first write meets a broken pipe
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "Traceback" not in errors and "unexpected error" not in errors, errors
