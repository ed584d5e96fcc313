"""SIGKILL at the two points of the SMTP conversation that matter, made exact by holding the
server's reply there (no hook in the mailer):

- before the end of data (RCPT pending): nothing was handed over, the ledger says `pending`;
  the restarted mailer sends it, and the server has it once;
- after the server accepted, before the mailer heard 250: the ledger says `sending`; the
  restarted mailer does not send again and reports it `sent`, at the claim's time.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from tests.integration.mailer.harness import (
    MailerEnv,
    MailerProcess,
    outreach,
    publish,
    requested,
    statuses,
    wait_for,
)
from tests.integration.mailer.smtp_server import SmtpServer, smtp_server
from worker.contracts.outreach import OutreachRequested
from worker.mailer import ledger
from worker.mailer.ledger import MailState

pytestmark = pytest.mark.kafka


def _state(engine: Engine, outreach_id: str) -> MailState | None:
    with engine.connect() as connection:
        entry = ledger.get(connection, outreach_id)
    return None if entry is None else entry.state


def _started_while_held(
    start_mailer: Callable[[MailerEnv], MailerProcess],
    env: MailerEnv,
    server: SmtpServer,
    data: OutreachRequested,
    stage: str,
) -> MailerProcess:
    """A mailer sending `data` to a server that holds its reply at `stage`, once it holds."""
    publish(env.bootstrap, env.outreach_topic, [requested(data)])
    server.hold_replies(stage)
    mailer = start_mailer(env)
    assert server.wait_until_holding(), mailer.output()
    return mailer


def _run_until_reported(
    start_mailer: Callable[[MailerEnv], MailerProcess], env: MailerEnv, *outreach_ids: str
) -> None:
    """Run a mailer until every one of these outreach has a status, then stop it (exit 0)."""
    mailer = start_mailer(env)
    wait_for(
        lambda: set(outreach_ids) <= set(statuses(env.bootstrap, env.status_topic)),
        "the statuses",
        context=mailer.output,
    )
    assert mailer.terminate() == 0, mailer.output()


def test_killed_before_the_end_of_data_the_email_is_sent_after_restart(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
    ledger_engine: Engine,
) -> None:
    data = outreach(1)
    with smtp_server() as server:
        env = mailer_env(server.port)
        first = _started_while_held(start_mailer, env, server, data, "rcpt")
        first.kill()
        assert _state(ledger_engine, data.outreach_id) is MailState.PENDING
        server.release()

        _run_until_reported(start_mailer, env, data.outreach_id)

    assert server.message_ids() == {f"<{data.outreach_id}@acme.example>": 1}
    (event,) = statuses(env.bootstrap, env.status_topic)[data.outreach_id]
    assert event.type == "reengage.outreach.sent"
    assert _state(ledger_engine, data.outreach_id) is MailState.SENT


def test_killed_after_the_server_accepted_the_email_is_not_sent_again(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
    ledger_engine: Engine,
) -> None:
    data, after = outreach(1), outreach(2)
    with smtp_server() as server:
        env = mailer_env(server.port)
        first = _started_while_held(start_mailer, env, server, data, "data")
        first.kill()
        assert _state(ledger_engine, data.outreach_id) is MailState.SENDING
        server.release()

        publish(env.bootstrap, env.outreach_topic, [requested(after)])
        _run_until_reported(start_mailer, env, data.outreach_id, after.outreach_id)

    assert server.message_ids() == {
        f"<{data.outreach_id}@acme.example>": 1,
        f"<{after.outreach_id}@acme.example>": 1,
    }
    reported = statuses(env.bootstrap, env.status_topic)
    (event,) = reported[data.outreach_id]
    assert event.type == "reengage.outreach.sent"
    assert event.data.message_id == f"<{data.outreach_id}@acme.example>"  # type: ignore[union-attr]
    assert _state(ledger_engine, data.outreach_id) is MailState.SENT
    assert [e.type for e in reported[after.outreach_id]] == ["reengage.outreach.sent"]


def test_sigterm_while_the_server_is_slow_exits_within_10_s_and_sends_once(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
    ledger_engine: Engine,
) -> None:
    """The server sits on its reply to RCPT (its timeout is 60 s): SIGTERM breaks the email
    off before the end of data, so it is still pending, and the next run sends it once."""
    data = outreach(1)
    with smtp_server() as server:
        env = mailer_env(server.port)
        first = _started_while_held(start_mailer, env, server, data, "rcpt")
        assert first.terminate(timeout_s=10) == 0, first.output()  # the interface's 10 s
        assert _state(ledger_engine, data.outreach_id) is MailState.PENDING
        assert data.outreach_id not in statuses(env.bootstrap, env.status_topic)
        server.release()

        _run_until_reported(start_mailer, env, data.outreach_id)

    assert server.message_ids() == {f"<{data.outreach_id}@acme.example>": 1}


def test_sigterm_with_a_server_that_never_answers_quit_exits_within_10_s(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
) -> None:
    """The connection is kept open between emails; closing it sends QUIT, which a hung
    server never answers. That wait is under the shutdown's deadline too."""
    data = outreach(1)
    with smtp_server() as server:
        env = mailer_env(server.port)
        publish(env.bootstrap, env.outreach_topic, [requested(data)])
        mailer = start_mailer(env)
        wait_for(
            lambda: data.outreach_id in statuses(env.bootstrap, env.status_topic),
            "the status",
            context=mailer.output,
        )
        server.hold_replies("quit")
        assert mailer.terminate(timeout_s=10) == 0, mailer.output()  # the interface's 10 s
        server.release()
    assert server.message_ids() == {f"<{data.outreach_id}@acme.example>": 1}
