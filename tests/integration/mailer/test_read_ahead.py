"""A cancellation further along the partition than the batch the mailer is sending, and what
the read-ahead must leave alone.

A batch holds five seconds of sends (rate x 5 records). Before the mailer read ahead, a
cancellation just past the batch's last record came after every email of that batch was out:
the candidate got the email the worker had cancelled. Now the mailer polls on past the batch
before each email and skips the outreach whose cancellation it finds.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.fixtures.kafka import NotUtf8HeaderKey
from tests.integration.mailer.harness import (
    MailerEnv,
    MailerProcess,
    cancelled,
    outreach,
    publish,
    requested,
    statuses,
    wait_for,
)
from tests.integration.mailer.smtp_server import smtp_server
from tests.integration.worker.harness import http_port_of, metric

pytestmark = pytest.mark.kafka

RATE = 4.0  # a batch of 20 records: five seconds of sends
JOBS = 20  # one batch of requests, all on one partition (one candidate)
CANCELLED = (10, 19)  # their cancellations follow the batch on the partition


def test_a_cancellation_just_past_the_batch_is_applied_before_the_email(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
) -> None:
    requests = [outreach(7, job=f"J-{j}") for j in range(JOBS)]
    messages = [requested(data) for data in requests]
    messages += [cancelled(requests[j]) for j in CANCELLED]
    wanted = {data.outreach_id for j, data in enumerate(requests) if j not in CANCELLED}

    with smtp_server() as server:
        env = mailer_env(server.port, rate_per_second=RATE)
        publish(env.bootstrap, env.outreach_topic, messages)
        mailer = start_mailer(env)
        wait_for(
            lambda: len(statuses(env.bootstrap, env.status_topic)) == JOBS,
            "a status for every outreach",
            context=mailer.output,
        )
        port = http_port_of(mailer)  # type: ignore[arg-type]
        counts = lambda: [  # noqa: E731
            metric(port, "reengage_mail_total", outcome=o) for o in ("sent", "skipped", "duplicate")
        ]
        wait_for(
            lambda: counts() == [JOBS - 2, 2, 0], "the mail counts", context=lambda: str(counts())
        )
        assert mailer.terminate() == 0, mailer.output()

    sent = {message_id.strip("<>").split("@")[0] for message_id in server.message_ids()}
    assert sent == wanted
    assert all(count == 1 for count in server.message_ids().values())
    by_outreach = statuses(env.bootstrap, env.status_topic)
    for j, data in enumerate(requests):
        events = by_outreach[data.outreach_id]
        if j in CANCELLED:
            assert [(e.type, e.data.reason) for e in events] == [  # type: ignore[union-attr]
                ("reengage.outreach.skipped", "cancelled")
            ]
        else:
            assert [e.type for e in events] == ["reengage.outreach.sent"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a Kafka matter
@pytest.mark.parametrize("between", [0, 5])
def test_an_unreadable_record_past_the_batch_stops_the_mailer_only_after_the_batch(
    between: int,
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
) -> None:
    """Met by the read-ahead, the record stops the mailer once the batch is sent and
    committed, never before. `between`: requests after the batch and before the record,
    read ahead: the group's commit then stands before them, so the first stop says to
    restart (moving one record past the commit would skip a request), and the next run
    sends them and stops at the record with the advice to move one record past it."""
    requests = [outreach(7, job=f"J-{j}") for j in range(JOBS + between)]
    with smtp_server() as server:
        env = mailer_env(server.port, rate_per_second=RATE)
        publish(env.bootstrap, env.outreach_topic, [requested(data) for data in requests])
        producer = KafkaProducer(bootstrap_servers=env.bootstrap)
        bad = producer.send(
            env.outreach_topic,
            key=requested(requests[0]).key,
            value=b"unreadable",
            headers=[(NotUtf8HeaderKey("k"), b"v")],
        ).get(timeout=30)
        producer.close()
        stops = []
        for _ in range(2 if between else 1):
            mailer = start_mailer(env)
            wait_for(lambda: not mailer.alive(), "the mailer to stop", context=mailer.output)  # noqa: B023
            assert mailer.popen.returncode == 1, mailer.output()
            stops.append((mailer.output(), len(server.message_ids())))
            assert committed_offset(env, bad.partition) == min(JOBS * len(stops), bad.offset)
        sent = server.message_ids()
    where = f"It is at {env.outreach_topic} partition {bad.partition} offset {bad.offset}."
    assert bad.offset == len(requests)
    if between:
        first, sent_then = stops[0]
        assert where in first and "restart, and the next run processes them" in first
        assert "--shift-by" not in first.split(where)[1].splitlines()[0]
        assert sent_then == JOBS
    last, _ = stops[-1]
    assert where in last and "--shift-by 1" in last.split(where)[1].splitlines()[0]
    assert len(sent) == len(requests) and set(sent.values()) == {1}
    assert len(statuses(env.bootstrap, env.status_topic)) == len(requests)


def committed_offset(env: MailerEnv, partition: int) -> int | None:
    consumer = KafkaConsumer(
        bootstrap_servers=env.bootstrap, group_id=env.group, enable_auto_commit=False
    )
    try:
        offset: int | None = consumer.committed(
            TopicPartition(env.outreach_topic, partition), timeout_ms=30_000
        )
        return offset
    finally:
        consumer.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a Kafka matter
def test_cancellations_far_along_a_backlog_are_read_before_the_first_email(
    mailer_env: Callable[..., MailerEnv],
    start_mailer: Callable[[MailerEnv], MailerProcess],
) -> None:
    """A job closed while the mailer was behind: each request's cancellation sits 600
    records further along the partition. Reading one poll ahead per email reached them only
    after the batch's emails had gone; before its first email the mailer now reads on through
    what the client has (up to a second)."""
    requests = [outreach(7, job=f"J-{j}") for j in range(5)]
    # Six times what one poll per email reads before the fifth email (5 polls of 20), and
    # few enough polls (30) to fit the read-ahead's second on a slow machine.
    filler = [cancelled(outreach(7, job=f"F-{n}")) for n in range(600)]  # same partition
    messages = [requested(data) for data in requests] + filler
    messages += [cancelled(data) for data in requests]
    with smtp_server() as server:
        env = mailer_env(server.port, rate_per_second=RATE)
        publish(env.bootstrap, env.outreach_topic, messages)
        mailer = start_mailer(env)
        wanted = {data.outreach_id for data in requests}
        wait_for(
            lambda: wanted <= set(statuses(env.bootstrap, env.status_topic)),
            "a status for each request",
            context=mailer.output,
        )
        assert mailer.terminate() == 0, mailer.output()
    assert server.message_ids() == {}
    by_outreach = statuses(env.bootstrap, env.status_topic)
    assert all(
        [(e.type, e.data.reason) for e in by_outreach[o]]  # type: ignore[union-attr]
        == [("reengage.outreach.skipped", "cancelled")]
        for o in wanted
    )
