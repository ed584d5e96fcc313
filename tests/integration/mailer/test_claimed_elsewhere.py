"""A request whose claim another mailer takes between this one's read and its claim (one
evicted from the group without knowing it yet): read again rather than committed past, so
its status still goes out when that mailer never reports it."""

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

pytestmark = pytest.mark.kafka


# The loop's matter: the ledger's conditional claim is tested on both databases elsewhere.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_claim_taken_elsewhere_mid_send_is_read_again_and_reported(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
    mailer_database: str,
) -> None:
    requests = [outreach(n) for n in range(3)]
    taken = requests[1]
    database = create_engine(mailer_database, poolclass=NullPool)

    def script(stage: str, recipient: str, attempt: int) -> str | None:
        # While this mailer transfers the message, before its claim: the other one claims,
        # sends (as far as anyone knows), and dies without recording or reporting it.
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

    try:
        with smtp_server(script) as server:
            env = mailer_env(server.port)
            publish(env.bootstrap, env.outreach_topic, [requested(r) for r in requests])
            mailer = start_mailer(env)
            wait_for(
                lambda: (
                    statuses(env.bootstrap, env.status_topic).keys()
                    >= {r.outreach_id for r in requests}
                ),
                "a status for every outreach",
                context=mailer.output,
            )
            assert mailer.terminate() == 0, mailer.output()
    finally:
        database.dispose()
    # The one claimed elsewhere was not sent by this mailer; found `sending` when read again,
    # it was resolved as sent (the other's end of data may have gone out) and reported.
    assert sorted(server.message_ids().values()) == [1, 1]
    reported = statuses(env.bootstrap, env.status_topic)[taken.outreach_id]
    assert {event.type for event in reported} == {"reengage.outreach.sent"}
