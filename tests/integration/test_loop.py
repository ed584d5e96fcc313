"""The whole loop: worker -> outreach -> mailer -> SMTP -> status -> worker.

A 550 for one address makes the mailer report `failed`/`rejected`; the worker then marks
that address unusable and never matches it again, for any later job.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.mailer.smtp_server import smtp_server
from tests.integration.worker.harness import (
    Topics,
    base_env,
    count_rows,
    publish,
    read_until,
    running,
    wait_for,
)
from tests.integration.worker.pools import T, job_opened, make_pool
from worker.contracts.encode import ats_event
from worker.contracts.outreach import outreach_id

pytestmark = pytest.mark.kafka


def test_a_rejected_address_is_never_matched_again(
    kafka_bootstrap: str, migrated: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    pool = make_pool(seed=7, size=120)
    first_job = job_opened(job_id="J-1", max_outreach=3)
    env = base_env(kafka_bootstrap, migrated, topics, group_id)
    publish(kafka_bootstrap, topics.candidates, pool.messages())

    with running(["worker"], env, tmp_path / "worker.log") as worker:
        wait_for(lambda: count_rows(migrated, "candidates") == 120, "the pool stored")
        publish(
            kafka_bootstrap,
            topics.jobs,
            [ats_event(first_job, event_id="open-1", source="urn:ats:test")],
        )
        requested = read_until(
            kafka_bootstrap, topics.outreach, lambda r: len(r) >= 3, settle_s=0.5
        )
        first = [json.loads(r.value)["data"] for r in requested]
        assert len(first) == 3
        rejected = first[0]["candidate"]

        def script(stage: str, recipient: str, _attempt: int) -> str | None:
            refused = stage == "rcpt" and recipient == rejected["email"]
            return "550 5.1.1 mailbox unavailable" if refused else None

        with smtp_server(script) as smtp:
            mailer_env = {
                **env,
                "REENGAGE_CONSUMER_GROUP": group_id + "-mailer",
                "REENGAGE_SMTP_HOST": "127.0.0.1",
                "REENGAGE_SMTP_PORT": str(smtp.port),
                "REENGAGE_MAIL_RATE_PER_SECOND": "1000",
                "REENGAGE_MAIL_FROM": "Acme Talent <talent@acme.example>",
            }
            with running(["mailer"], mailer_env, tmp_path / "mailer.log") as mailer:
                statuses = read_until(
                    kafka_bootstrap, topics.status, lambda r: len(r) >= 3, settle_s=0.5
                )
                assert mailer.stop() == 0, mailer.output()
            assert len(smtp.accepted) == 2
        kinds = {json.loads(s.value)["data"]["outreach_id"]: json.loads(s.value) for s in statuses}
        failed = kinds[outreach_id("acme", "J-1", rejected["candidate_id"])]
        assert failed["type"] == "reengage.outreach.failed"
        assert failed["data"]["reason"] == "rejected"

        # The worker takes in the report; a later job that would have matched them does not.
        wait_for(
            lambda: (
                count_rows(migrated, "outreach WHERE status = 'sent'") == 2
                and count_rows(migrated, "candidates WHERE email_suppressed") == 1
            ),
            "the mailer's reports applied",
        )
        later = job_opened(job_id="J-2", opened_at=T + timedelta(days=30), max_outreach=100)
        publish(
            kafka_bootstrap,
            topics.jobs,
            [ats_event(later, event_id="open-2", source="urn:ats:test")],
        )
        wait_for(
            lambda: count_rows(migrated, "processed_events") >= 120 + 2 + 3,
            "the second job processed",
        )
        assert worker.stop() == 0, worker.output()

    assert count_rows(migrated, "outreach WHERE job_id = 'J-2'") > 0
    assert count_rows(migrated, f"outreach WHERE candidate_id = '{rejected['candidate_id']}'") == 1
