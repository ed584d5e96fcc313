"""The acceptance run: 2,000 outreach events, `reengage mailer` SIGKILLed at random moments
while it sends, restarted each time; the SMTP server (in this process) counts what it accepted.

What is asserted, exactly (worker/mailer/README.md, "The delivery guarantee"):
- no email is accepted twice (by Message-ID, which is derived from the outreach);
- every outreach ends `sent` or `failed` in the ledger, with that status published;
- every `sent` one is at the server exactly once;
- a `failed` one is only ever the documented crash case (`retries_exhausted`, delivery
  unknown: the kill fell between the claim and the recorded reply), at most one per kill;
- nothing is lost silently: an outreach the server does not have is reported `failed`.
How many of the unknown ones the server does have (the email went out, the mailer could not
know) and does not have (the kill fell in the microseconds between committing the claim and
writing the end of data) is measured and printed.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

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
from worker.mailer.ledger import UNKNOWN_DELIVERY, MailLedgerRow

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

EVENTS = 2000
REPEATS = 100  # requests published a second time, after the rest
KILLS = 3


def _ledger(engine: Engine) -> dict[str, tuple[str, str | None, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                MailLedgerRow.outreach_id,
                MailLedgerRow.state,
                MailLedgerRow.reason,
                MailLedgerRow.detail,
            )
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_sigkill_at_random_moments_sends_no_email_twice_and_loses_none(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
    ledger_engine: Engine,
) -> None:
    rng = random.Random(20261120)
    requests = [outreach(n) for n in range(EVENTS)]
    ids = {data.outreach_id for data in requests}
    started = time.monotonic()

    with smtp_server() as server:
        env = mailer_env(server.port)
        messages = [requested(d) for d in requests]
        messages += [requested(d) for d in rng.sample(requests, REPEATS)]
        publish(env.bootstrap, env.outreach_topic, messages)

        kills = 0
        for _ in range(KILLS):
            before = len(server.accepted)
            mailer = start_mailer(env)
            wait_for(
                lambda: len(server.accepted) > before or not mailer.alive(),  # noqa: B023
                "the mailer to send again",
                context=mailer.output,
            )
            assert mailer.alive(), mailer.output()
            time.sleep(rng.uniform(0.0, 0.5))
            if len(server.accepted) >= EVENTS - 50:
                break  # nearly done: keep the last stretch for the clean run
            mailer.kill()
            kills += 1

        last = mailer if mailer.alive() else start_mailer(env)
        wait_for(
            lambda: set(statuses(env.bootstrap, env.status_topic)) >= ids,
            "a status for every outreach",
            timeout_s=120,
            context=last.output,
        )
        assert last.terminate() == 0, last.output()

    at_server = server.message_ids()
    ledger = _ledger(ledger_engine)
    reported = statuses(env.bootstrap, env.status_topic)
    elapsed = time.monotonic() - started

    assert [mid for mid, n in at_server.items() if n > 1] == []  # no email twice
    assert set(ledger) == ids
    states = Counter(state for state, _, _ in ledger.values())
    assert set(states) <= {"sent", "failed"}, states

    unknown_delivered = unknown_not_delivered = 0
    for data in requests:
        state, reason, detail = ledger[data.outreach_id]
        at = at_server[f"<{data.outreach_id}@acme.example>"]
        published = {event.type for event in reported[data.outreach_id]}
        assert published == {f"reengage.outreach.{state}"}, (data.outreach_id, published)
        if state == "sent":
            assert at == 1, data.outreach_id
            continue
        assert (reason, detail) == ("retries_exhausted", UNKNOWN_DELIVERY)
        if at:
            unknown_delivered += 1
        else:
            unknown_not_delivered += 1
    assert states["failed"] <= kills

    print(  # the measurement, for the report (pytest -s)
        f"\nsigkill run: {EVENTS} outreach (+{REPEATS} repeats), {kills} kills, "
        f"{len(at_server)} accepted by the server, {states['sent']} sent, "
        f"{states['failed']} unknown after a kill ({unknown_delivered} delivered, "
        f"{unknown_not_delivered} not), {elapsed:.1f} s"
    )
