"""Ranking, the cap, ranks across matches, and reverse matching, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from tests.integration.store.builders import (
    DAY,
    TENANT,
    T,
    job,
    record_outreach,
    reverse_match_stored,
    snapshot,
)
from worker.contracts.outreach import outreach_id
from worker.rules.model import Policy, PolicyOverride
from worker.store.candidates import upsert_candidates
from worker.store.jobs import close_job, upsert_job
from worker.store.matcher import Trigger, match_job, ranked_candidates
from worker.store.schema import OutreachRow


def test_order_is_preferred_desc_then_inactive_days_then_id_bytes(engine: Engine) -> None:
    pool = [
        # Two preferred credentials matched beats everything else.
        snapshot("z-both", credentials=("python", "sql", "tableau", "excel")),
        # One preferred, the more recently active first.
        snapshot(
            "m-one-recent", credentials=("python", "sql", "Excel"), last_activity_at=T - 190 * DAY
        ),
        snapshot(
            "a-one-older", credentials=("python", "sql", "tableau"), last_activity_at=T - 300 * DAY
        ),
        # No preferred; same inactive_days (different times of day): id in byte order,
        # so upper case before lower case and "C-10" before "C-9".
        snapshot("b", last_activity_at=T - 200 * DAY - timedelta(hours=1)),
        snapshot("B", last_activity_at=T - 200 * DAY - timedelta(hours=20)),
        snapshot("C-9", last_activity_at=T - 200 * DAY),
        snapshot("C-10", last_activity_at=T - 200 * DAY - timedelta(hours=5)),
    ]
    with engine.begin() as connection:
        upsert_candidates(connection, pool)
        upsert_job(connection, job(preferred_credentials=("Tableau", "EXCEL")))
        requested = match_job(connection, TENANT, "j-1", Policy())
    assert [(r.candidate_id, r.preferred_matched, r.inactive_days) for r in requested] == [
        ("z-both", 2, 200),
        ("m-one-recent", 1, 190),
        ("a-one-older", 1, 300),
        ("B", 0, 200),
        ("C-10", 0, 200),
        ("C-9", 0, 200),
        ("b", 0, 200),
    ]
    assert [r.rank for r in requested] == [1, 2, 3, 4, 5, 6, 7]


def test_cap_takes_the_top_and_ranks_continue_across_matches(engine: Engine) -> None:
    pool = [snapshot(f"c-{n}", last_activity_at=T - (180 + n) * DAY) for n in range(5)]
    capped = job(policy=PolicyOverride(max_outreach=3))
    with engine.begin() as connection:
        upsert_candidates(connection, pool)
        upsert_job(connection, capped)
        record_outreach(connection, "j-1", "earlier", T - 300 * DAY)
        first = match_job(connection, TENANT, "j-1", Policy())
        again = match_job(connection, TENANT, "j-1", Policy())
    assert [(r.candidate_id, r.rank) for r in first] == [("c-0", 2), ("c-1", 3)]
    assert again == []  # the cap counts the earlier request and this match's


def test_lowering_the_cap_below_the_count_requests_nobody(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1"), snapshot("c-2")])
        record_outreach(connection, "j-1", "x-1", T - 300 * DAY)
        record_outreach(connection, "j-1", "x-2", T - 300 * DAY)
        upsert_job(connection, job(policy=PolicyOverride(max_outreach=1)))
        assert match_job(connection, TENANT, "j-1", Policy()) == []


def test_rows_written_match_what_is_returned(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1"), snapshot("c-2")])
        upsert_job(connection, job())
        requested = match_job(connection, TENANT, "j-1", Policy())
        rows = connection.execute(
            select(
                OutreachRow.outreach_id,
                OutreachRow.candidate_id,
                OutreachRow.rank,
                OutreachRow.trigger,
                OutreachRow.requested_at,
                OutreachRow.status,
            ).order_by(OutreachRow.rank)
        ).all()
    assert [tuple(row) for row in rows] == [
        (
            outreach_id(TENANT, "j-1", r.candidate_id),
            r.candidate_id,
            r.rank,
            "job.opened",
            T,
            "requested",
        )
        for r in requested
    ]
    assert rows[0].outreach_id == outreach_id("acme", "j-1", "c-1")


def test_rematching_a_job_requests_nobody_twice(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1")])
        upsert_job(connection, job())
        first = match_job(connection, TENANT, "j-1", Policy())
        # Republished with a later opened_at: rule 8 holds whatever the cooldown says.
        upsert_job(connection, job(opened_at=T + 60 * DAY))
        second = match_job(connection, TENANT, "j-1", Policy(cooldown_days=0))
    assert [r.candidate_id for r in first] == ["c-1"]
    assert second == []


def test_unknown_or_close_only_job_matches_nobody(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1")])
        close_job(connection, TENANT, "j-closed", T)
        assert match_job(connection, TENANT, "j-closed", Policy()) == []
        assert match_job(connection, TENANT, "j-unknown", Policy()) == []


def test_ranked_candidates_streams_the_whole_ranking_without_writing(engine: Engine) -> None:
    pool = [snapshot(f"c-{n:03}", last_activity_at=T - (180 + n % 7) * DAY) for n in range(40)]
    with engine.begin() as connection:
        upsert_candidates(connection, pool)
        upsert_job(connection, job())
    with engine.connect() as connection:
        ranked = list(ranked_candidates(connection, job(), T, Policy()))
        written = connection.execute(select(OutreachRow.outreach_id)).all()
    assert len(ranked) == 40
    assert [r.inactive_days for r in ranked] == sorted(r.inactive_days for r in ranked)
    assert written == []


def test_reverse_match_takes_the_oldest_open_job_in_the_window(engine: Engine) -> None:
    at = T + 10 * DAY  # the snapshot's updated_at
    candidate = snapshot("c-1", updated_at=at)
    with engine.begin() as connection:
        upsert_job(connection, job("j-too-old", opened_at=at - 31 * DAY))
        upsert_job(connection, job("j-oldest", opened_at=at - 30 * DAY))
        upsert_job(connection, job("j-newer", opened_at=at - DAY))
        upsert_job(connection, job("j-closed", opened_at=at - 30 * DAY, closed_at=at - 2 * DAY))
        upsert_job(connection, job("j-future", opened_at=at + DAY))
        upsert_candidates(connection, [candidate])
        requested = reverse_match_stored(connection, TENANT, "c-1", at, Policy())
    # With a cooldown, the first request blocks the rest of the pass.
    assert [(r.job_id, r.trigger, r.requested_at, r.rank) for r in requested] == [
        ("j-oldest", Trigger.CANDIDATE_UPDATED, at, 1)
    ]


def test_reverse_match_without_cooldown_requests_every_job_in_order(engine: Engine) -> None:
    at = T + 10 * DAY
    with engine.begin() as connection:
        upsert_job(connection, job("j-b", opened_at=at - 5 * DAY))
        upsert_job(connection, job("j-a", opened_at=at - 5 * DAY))
        upsert_job(connection, job("j-c", opened_at=at - 9 * DAY))
        upsert_job(connection, job("j-other-skills", required_credentials=("rust",), opened_at=at))
        upsert_candidates(
            connection, [snapshot("c-1", updated_at=at), snapshot("c-2", updated_at=at)]
        )
        requested = reverse_match_stored(connection, TENANT, "c-1", at, Policy(cooldown_days=0))
    assert [r.job_id for r in requested] == ["j-c", "j-a", "j-b"]
    assert {r.candidate_id for r in requested} == {"c-1"}  # never another candidate


def test_reverse_match_respects_each_jobs_cap(engine: Engine) -> None:
    at = T + DAY
    with engine.begin() as connection:
        upsert_job(connection, job("j-full", opened_at=T, policy=PolicyOverride(max_outreach=1)))
        record_outreach(connection, "j-full", "someone", T)
        upsert_job(connection, job("j-room", opened_at=T + timedelta(hours=1)))
        upsert_candidates(connection, [snapshot("c-1", updated_at=at)])
        requested = reverse_match_stored(connection, TENANT, "c-1", at, Policy())
    assert [(r.job_id, r.rank) for r in requested] == [("j-room", 1)]
