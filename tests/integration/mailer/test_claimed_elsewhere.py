"""A request whose claim another mailer takes between this one's read and its claim (one
evicted from the group without knowing it yet): this one sends nothing and reports nothing
for it, and leaves the outcome to the holder, which is alive and likely mid-send. Reading it
again would resolve the holder's claim as `sent` before its reply is in (a review's finding
against a change that did that)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.integration.mailer.harness import (
    MailerEnv,
    MailerProcess,
    outreach,
    publish,
    requested,
    statuses,
    wait_for,
)
from tests.integration.mailer.smtp_server import smtp_server
from tests.integration.worker.harness import http_port_of, metric

pytestmark = pytest.mark.kafka


# The loop's matter: the ledger's conditional claim is tested on both databases elsewhere.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_claim_taken_elsewhere_mid_send_is_left_to_its_holder(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
    mailer_database: str,
) -> None:
    requests = [outreach(n) for n in range(3)]
    taken = requests[1]
    database = create_engine(mailer_database, poolclass=NullPool)

    def script(stage: str, recipient: str, attempt: int) -> str | None:
        # While this mailer transfers the message, before its claim: the other one claims.
        if stage == "rcpt" and recipient == taken.candidate.email and attempt == 1:
            with database.begin() as connection:
                connection.execute(
                    text(
                        "UPDATE mail_ledger SET state = 'sending', claimed_by = 'evicted', "
                        "claimed_at = created_at WHERE outreach_id = :id"
                    ),
                    {"id": taken.outreach_id},
                )
        return None

    others = {r.outreach_id for r in requests} - {taken.outreach_id}
    try:
        with smtp_server(script) as server:
            env = mailer_env(server.port)
            publish(env.bootstrap, env.outreach_topic, [requested(r) for r in requests])
            mailer = start_mailer(env)
            wait_for(
                lambda: statuses(env.bootstrap, env.status_topic).keys() >= others,
                "a status for every other outreach",
                context=mailer.output,
            )
            port = http_port_of(mailer)  # type: ignore[arg-type]
            wait_for(
                lambda: metric(port, "reengage_mail_total", outcome="claimed_elsewhere") == 1,
                "the claim counted as held elsewhere",
                context=mailer.output,
            )
            assert mailer.terminate() == 0, mailer.output()
        with database.connect() as connection:
            holder = connection.execute(
                text("SELECT state, claimed_by FROM mail_ledger WHERE outreach_id = :id"),
                {"id": taken.outreach_id},
            ).one()
    finally:
        database.dispose()
    assert sorted(server.message_ids().values()) == [1, 1]  # the other two
    assert taken.outreach_id not in statuses(env.bootstrap, env.status_topic)
    assert tuple(holder) == ("sending", "evicted")  # untouched: the holder records it
