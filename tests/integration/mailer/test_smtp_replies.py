"""What the SMTP server answers decides what the mailer reports: 4xx is retried and sent once,
5xx (at RCPT or at the end of data) and unusable addresses are `failed`/`rejected`, with a
detail that quotes the server but not the address. A server gone for longer than the retry
budget stops the mailer, after it reported what it had sent."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest

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


def _script(stage: str, recipient: str, attempt: int) -> str | None:
    if stage == "data" and recipient.startswith("busy") and attempt == 1:
        return "451 4.3.0 Mailbox busy, try again later"
    if stage == "data" and recipient.startswith("spam"):
        return "550 5.7.1 Message rejected as spam"
    if stage == "rcpt" and recipient.startswith("nobody"):
        return f"550 5.1.1 <{recipient}>: Recipient address rejected"
    if stage == "rcpt" and recipient.startswith("gone"):
        return "550 5.1.1 Mailbox of Jane Doe is closed"  # some servers quote the name
    return None


def test_replies_decide_the_outcome(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
) -> None:
    busy = outreach(1, email="busy@example.com")
    spam = outreach(2, email="spamfilter@example.com")  # not "spam": a word of the reply
    nobody = outreach(3, email="nobody@example.com")
    malformed = outreach(4, email="not an address@@example.com")
    fine = outreach(5, email="fine@example.com")
    gone = outreach(6, email="gone@example.com")
    everything = [busy, spam, nobody, malformed, fine, gone]

    with smtp_server(_script) as server:
        env = mailer_env(server.port)
        publish(env.bootstrap, env.outreach_topic, [requested(d) for d in everything])
        mailer = start_mailer(env)
        wait_for(
            lambda: (
                set(statuses(env.bootstrap, env.status_topic))
                >= {d.outreach_id for d in everything}
            ),
            "a status for every outreach",
            context=mailer.output,
        )
        assert mailer.terminate() == 0, mailer.output()

    accepted = sorted(r.recipients[0] for r in server.accepted)
    assert accepted == ["busy@example.com", "fine@example.com"]
    (retry,) = [
        json.loads(line)
        for line in mailer.output().splitlines()
        if line.startswith("{") and "retrying" in json.loads(line)["event"]
    ]
    assert retry["topic"] == env.outreach_topic  # which record, as every record's line says
    assert {k: retry[k] for k in ("outreach_id", "tenant_id", "job_id")} == {
        "outreach_id": busy.outreach_id,
        "tenant_id": busy.tenant_id,
        "job_id": busy.job.job_id,
    }
    assert isinstance(retry["partition"], int) and isinstance(retry["offset"], int)
    assert server.handler.attempts["busy@example.com"] == 2  # 451, then 250
    assert server.handler.attempts["spamfilter@example.com"] == 1  # 5xx is not retried

    reported = statuses(env.bootstrap, env.status_topic)
    assert [e.type for e in reported[busy.outreach_id]] == ["reengage.outreach.sent"]
    assert [e.type for e in reported[fine.outreach_id]] == ["reengage.outreach.sent"]
    for data, detail in [
        (spam, "550 5.7.1 Message rejected as spam (at end of data)"),
        (nobody, "550 5.1.1 [address]: Recipient address rejected (at rcpt)"),
        (malformed, "the recipient address is not a valid address"),
        (gone, "550 5.1.1 Mailbox of [name] is closed (at rcpt)"),
    ]:
        (event,) = reported[data.outreach_id]
        assert event.type == "reengage.outreach.failed"
        assert event.data.reason == "rejected"  # type: ignore[union-attr]
        assert event.data.detail == detail  # type: ignore[union-attr]
        assert "@" not in event.data.detail  # type: ignore[union-attr]


def test_emails_sent_before_the_server_went_away_are_reported_before_the_mailer_stops(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
) -> None:
    # Ten seconds of sending at 4 a second: some are certainly left when the server goes,
    # however late this test notices the third.
    requests = [outreach(n) for n in range(40)]
    with smtp_server() as server:
        env = dataclasses.replace(mailer_env(server.port, rate_per_second=4.0), retry_budget_s=2)
        publish(env.bootstrap, env.outreach_topic, [requested(d) for d in requests])
        mailer = start_mailer(env)
        wait_for(lambda: len(server.accepted) >= 3, "three emails sent", context=mailer.output)
    # The server is gone: connections are refused until the retry budget is spent.
    assert mailer.popen.wait(timeout=60) == 1, mailer.output()
    # <outreach_id@domain>. An email the server took just as it stopped may be reported
    # `failed` (no reply to its end of data): reported all the same.
    emailed = {r.message_id.strip("<>").partition("@")[0] for r in server.accepted}
    reported = set(statuses(env.bootstrap, env.status_topic))
    assert len(emailed) >= 3
    assert emailed <= reported, mailer.output()
