"""`reengage mailer` against the real broker, the real database and a real SMTP server: every
requested outreach becomes exactly one email, redeliveries and cancellations are honoured,
status events tell the worker what happened, and bad messages are dead-lettered."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.integration.mailer.harness import (
    MailerEnv,
    MailerProcess,
    cancelled,
    outreach,
    publish,
    read_topic,
    requested,
    statuses,
    wait_for,
)
from tests.integration.mailer.smtp_server import smtp_server
from tests.integration.worker.harness import http_port_of, metric
from worker.contracts.outreach import OutreachRequested

pytestmark = pytest.mark.kafka

N = 40
DUPLICATED = range(0, N, 5)  # published twice
CANCELLED = range(3, N, 7)  # requested, then cancelled before the mailer runs
# The cancellation published before its request (one batch holds both); 15 is also duplicated.
CANCELLED_FIRST = (2, 13, 15)


def _mail_counts(port: int) -> tuple[float, ...]:
    """reengage_mail_total for sent, skipped and duplicate, and reengage_events_total for
    requests counted as duplicates (which must agree with the last)."""
    mail = [metric(port, "reengage_mail_total", outcome=o) for o in ("sent", "skipped")]
    duplicate = metric(port, "reengage_mail_total", outcome="duplicate")
    repeats = metric(
        port, "reengage_events_total", type="reengage.outreach.requested", outcome="duplicate"
    )
    return (*mail, duplicate if duplicate == repeats else -1.0)


SKIPPED = {*CANCELLED, *CANCELLED_FIRST}


def _expected_status(n: int) -> str:
    return "reengage.outreach.skipped" if n in SKIPPED else "reengage.outreach.sent"


def test_each_requested_outreach_is_sent_exactly_once_and_reported(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
) -> None:
    requests = {n: outreach(n, first_name=f"Name{n}") for n in range(N)}
    messages = []
    for n, data in requests.items():
        if n in CANCELLED_FIRST:
            messages.append(cancelled(data))
        messages.append(requested(data))
        if n in DUPLICATED:
            messages.append(requested(data))
        if n in CANCELLED:
            messages.append(cancelled(data))
    messages.append(requested(outreach(999, tenant="other", first_name="After")))

    with smtp_server() as server:
        env = mailer_env(server.port)
        publish(env.bootstrap, env.outreach_topic, messages[: len(messages) // 2])
        publish(env.bootstrap, env.outreach_topic, [b"{not json", b'{"specversion": "1.0"}'])
        publish(env.bootstrap, env.outreach_topic, messages[len(messages) // 2 :])
        mailer = start_mailer(env)
        expected = {data.outreach_id for data in requests.values()} | {
            outreach(999, tenant="other").outreach_id
        }
        wait_for(
            lambda: set(statuses(env.bootstrap, env.status_topic)) >= expected,
            "a status for every outreach",
            context=mailer.output,
        )
        # A redelivered batch could only add duplicates now; give it a moment to show them.
        wait_for(lambda: len(server.accepted) >= N + 1 - len(SKIPPED), "the emails")
        # A request cancelled before it could be sent is skipped, not a duplicate, whichever
        # of the two was read first: only the second copy of a duplicated request is one.
        # (Counted as batches finish: waited for.)
        port = http_port_of(mailer)  # type: ignore[arg-type]
        wait_for(
            lambda: _mail_counts(port) == (N + 1 - len(SKIPPED), len(SKIPPED), len(DUPLICATED)),
            "sent, skipped and duplicate counts",
            context=lambda: f"counted {_mail_counts(port)}\n{mailer.output()}",
        )
        assert mailer.terminate() == 0, mailer.output()

    # OPERATIONS.md: log lines carry topic, partition, offset and the ids where known.
    lines = [json.loads(line) for line in mailer.output().splitlines() if line.startswith("{")]
    sent_lines = [line for line in lines if line["event"] == "outreach sent"]
    assert len(sent_lines) == N + 1 - len(SKIPPED)
    for line in sent_lines:
        assert line["event_id"] == line["outreach_id"]  # the worker's requests: the same id
        assert {"topic", "partition", "offset", "tenant_id", "job_id"} <= line.keys()

    sent_to = sorted(r.recipients[0] for r in server.accepted)
    want = sorted(
        [f"candidate{n}@example.com" for n in range(N) if n not in SKIPPED]
        + ["candidate999@example.com"]
    )
    assert sent_to == want  # each once, none cancelled
    assert all(count == 1 for count in server.message_ids().values())

    by_outreach = statuses(env.bootstrap, env.status_topic)
    for n, data in requests.items():
        types = {event.type for event in by_outreach[data.outreach_id]}
        assert types == {_expected_status(n)}, (n, types)
    for n in CANCELLED_FIRST:  # reported by the cancellation, and again for a repeat only
        assert len(by_outreach[requests[n].outreach_id]) == 1 + (n in DUPLICATED), n
    for data in requests.values():
        for event in by_outreach[data.outreach_id]:
            if event.type == "reengage.outreach.sent":
                assert event.data.message_id == f"<{data.outreach_id}@acme.example>"  # type: ignore[union-attr]
                assert event.source == "urn:reengage:mailer"

    _check_one_message(server.accepted, requests[1])

    dead = read_topic(env.bootstrap, env.outreach_topic + ".dlq")
    assert sorted(d.value for d in dead) == sorted([b"{not json", b'{"specversion": "1.0"}'])
    for letter in dead:
        assert letter.headers["dlq.original.topic"] == env.outreach_topic.encode()
        assert letter.headers["dlq.consumer.group"] == env.group.encode()
        assert letter.headers["dlq.error.class"] in (b"not_json", b"bad_envelope")


def _check_one_message(accepted: list, data: OutreachRequested) -> None:  # type: ignore[type-arg]
    (received,) = [r for r in accepted if r.recipients == (data.candidate.email,)]
    assert received.mail_from == "talent@acme.example"
    message = received.parsed()
    assert message["To"] == f"Name1 Doe <{data.candidate.email}>"
    assert message["From"] == "Acme Talent <talent@acme.example>"
    assert message["Subject"] == "Senior Data Analyst: a role that fits your experience"
    assert message["Message-ID"] == f"<{data.outreach_id}@acme.example>"
    assert message["List-Unsubscribe"] == (
        "<https://jobs.acme.example/unsubscribe?tenant=acme&candidate=C-1"
        f"&outreach={data.outreach_id}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    body = text.get_content().replace("\r\n", "\n")
    assert body.startswith("Hello Name1,\n")
    assert data.reason.summary in body
    assert "SQL and Tableau" in body
    assert "Data Analyst, March 2025" in body
    assert "https://careers.acme.example/jobs/J-1" in body
    assert "unsubscribe here: https://jobs.acme.example/unsubscribe?" in body
    assert 'href="https://careers.acme.example/jobs/J-1"' in html.get_content()
