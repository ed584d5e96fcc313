"""Jobs (open, republish, close) and outreach status and cancellation, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from tests.integration.store.builders import DAY, TENANT, T, job, record_outreach, snapshot
from worker.contracts.outreach import outreach_id
from worker.rules.cancellation import CancellationReason
from worker.rules.model import Policy, PolicyOverride
from worker.store.candidates import upsert_candidates
from worker.store.jobs import close_job, jobs_opened_between, load_job, upsert_job
from worker.store.matcher import match_job
from worker.store.outreach import (
    OutreachRef,
    cancel_pending,
    mark_failed,
    mark_sent,
    past_outreach,
)
from worker.store.schema import OutreachRow


def test_job_round_trips(engine: Engine) -> None:
    given = job(
        location="Remote",
        apply_url="https://jobs.example.com/1",
        policy=PolicyOverride(min_inactive_days=10, max_outreach=5),
    )
    with engine.begin() as connection:
        assert upsert_job(connection, given) is True
        assert load_job(connection, TENANT, "j-1") == given
        assert load_job(connection, TENANT, "j-2") is None
        assert load_job(connection, "globex", "j-1") is None


def test_republish_updates_and_an_older_open_is_stale(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_job(connection, job(title="Analyst"))
        assert upsert_job(connection, job(title="Senior Analyst")) is True
        assert upsert_job(connection, job(title="Late", opened_at=T - DAY)) is False
        stored = load_job(connection, TENANT, "j-1")
    assert stored is not None
    assert (stored.title, stored.opened_at) == ("Senior Analyst", T)


def test_close_is_kept_across_reopen_and_late_opens(engine: Engine) -> None:
    with engine.begin() as connection:
        # a close for an unknown job is recorded
        assert close_job(connection, TENANT, "j-1", T) is True
        assert load_job(connection, TENANT, "j-1") is None
        upsert_job(connection, job(opened_at=T - DAY))  # a late open, from before the close
        assert jobs_opened_between(connection, TENANT, T - 9 * DAY, T + 9 * DAY) == []
        upsert_job(connection, job(opened_at=T + DAY))  # reopened after the close
        reopened = jobs_opened_between(connection, TENANT, T - 9 * DAY, T + 9 * DAY)
        # a repeat of the close the reopen came after: the job stays open
        assert close_job(connection, TENANT, "j-1", T) is False
        assert close_job(connection, TENANT, "j-1", T + 2 * DAY) is True
        # an older close changes nothing, and the job stays closed
        assert close_job(connection, TENANT, "j-1", T - 5 * DAY) is True
        closed = load_job(connection, TENANT, "j-1")
    assert [(j.job_id, j.closed_at) for j in reopened] == [("j-1", T)]
    assert closed is not None
    assert closed.closed_at == T + 2 * DAY


def _requested_pair(engine: Engine) -> list[str]:
    with engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1"), snapshot("c-2")])
        upsert_job(connection, job("j-1"))
        upsert_job(connection, job("j-2"))
        first = match_job(connection, TENANT, "j-1", Policy(cooldown_days=0))
        second = match_job(connection, TENANT, "j-2", Policy(cooldown_days=0))
    return [r.outreach_id for r in first + second]


def test_cancel_pending_for_a_job_skips_what_was_sent(engine: Engine) -> None:
    _requested_pair(engine)
    sent = outreach_id(TENANT, "j-1", "c-1")
    with engine.begin() as connection:
        assert mark_sent(connection, _ref("j-1", "c-1"), T + DAY) is True
        cancelled = cancel_pending(
            connection, TENANT, CancellationReason.JOB_CLOSED, T + 2 * DAY, job_id="j-1"
        )
        again = cancel_pending(
            connection, TENANT, CancellationReason.JOB_CLOSED, T + 2 * DAY, job_id="j-1"
        )
        rows = connection.execute(
            select(OutreachRow.outreach_id, OutreachRow.status, OutreachRow.cancel_reason)
            .where(OutreachRow.job_id == "j-1")
            .order_by(OutreachRow.candidate_id)
        ).all()
    assert [c.candidate_id for c in cancelled] == ["c-2"]
    assert again == []
    assert [tuple(r) for r in rows] == [
        (sent, "sent", None),
        (outreach_id(TENANT, "j-1", "c-2"), "cancelled", "job_closed"),
    ]


def test_cancel_pending_for_a_candidate_across_jobs(engine: Engine) -> None:
    _requested_pair(engine)
    with engine.begin() as connection:
        assert mark_failed(connection, _ref("j-2", "c-1"), T) is True
        cancelled = cancel_pending(
            connection, TENANT, CancellationReason.DO_NOT_CONTACT, T + DAY, candidate_id="c-1"
        )
        again = cancel_pending(
            connection, TENANT, CancellationReason.ERASED, T + 2 * DAY, candidate_id="c-1"
        )
        other_tenant = cancel_pending(
            connection, "globex", CancellationReason.ERASED, T, candidate_id="c-2"
        )
        history = past_outreach(connection, TENANT, ["c-1"])
        rows = connection.execute(
            select(
                OutreachRow.job_id,
                OutreachRow.status,
                OutreachRow.status_at,
                OutreachRow.cancel_reason,
            )
            .where(OutreachRow.candidate_id == "c-1")
            .order_by(OutreachRow.job_id)
        ).all()
    # Reported failed is not reported sent: cancelled too, once. Its row stays `failed`.
    assert [(c.job_id, c.candidate_id) for c in cancelled] == [("j-1", "c-1"), ("j-2", "c-1")]
    assert again == []
    assert [tuple(r) for r in rows] == [
        ("j-1", "cancelled", T + DAY, "do_not_contact"),
        ("j-2", "failed", T, "do_not_contact"),
    ]
    assert other_tenant == []
    # Cancelled outreach still counts for rules 8 and 9 and the cap.
    assert sorted(o.job_id for o in history) == ["j-1", "j-2"]


def test_cancel_pending_needs_a_target(engine: Engine) -> None:
    with engine.begin() as connection, pytest.raises(ValueError, match="job_id or a candidate_id"):
        cancel_pending(connection, TENANT, CancellationReason.ERASED, T)


def test_sent_wins_over_a_racing_cancellation(engine: Engine) -> None:
    with engine.begin() as connection:
        record_outreach(connection, "j-1", "c-1", T, status="cancelled")
        assert mark_sent(connection, _ref("j-1", "c-1"), T) is True
        assert mark_sent(connection, _ref("j-1", "c-1"), T) is False
        assert mark_failed(connection, _ref("j-1", "c-1"), T) is False
        assert mark_sent(connection, OutreachRef("unknown", TENANT, "j-1", "c-1"), T) is False


def _ref(job_id: str, candidate_id: str, tenant_id: str = TENANT) -> OutreachRef:
    return OutreachRef(outreach_id(TENANT, job_id, candidate_id), tenant_id, job_id, candidate_id)


def test_a_report_changes_only_the_outreach_with_every_id_it_names(engine: Engine) -> None:
    _requested_pair(engine)
    real = _ref("j-1", "c-1")
    with engine.begin() as connection:
        # The outreach id of acme's outreach, claimed by another tenant, for another
        # candidate, or for another job: none of these is that outreach.
        for wrong in (
            _ref("j-1", "c-1", tenant_id="globex"),
            OutreachRef(real.outreach_id, TENANT, "j-1", "c-2"),
            OutreachRef(real.outreach_id, TENANT, "j-2", "c-1"),
        ):
            assert mark_sent(connection, wrong, T) is False
            assert mark_failed(connection, wrong, T) is False
        status = connection.execute(
            select(OutreachRow.status).where(OutreachRow.outreach_id == real.outreach_id)
        ).scalar_one()
    assert status == "requested"
