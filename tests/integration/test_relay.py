"""The outbox relay against the real broker and both databases."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, make_url

from dev.local_postgres import LocalPostgres
from tests.fixtures.databases import as_admin
from tests.fixtures.kafka import FreezeBroker
from tests.integration.worker.harness import (
    Topics,
    base_env,
    count_rows,
    http_port_of,
    read_until,
    running,
    wait_for,
)
from worker.kafka.producer import Outgoing, Producer
from worker.outbox.leadership import RelayLeadership
from worker.outbox.relay import PUBLISHED_RETENTION, OutboxRelay, OutboxRowTooLargeError
from worker.outbox.writer import OutboxMessage, append
from worker.runtime.shutdown import Shutdown
from worker.settings import Settings
from worker.store.engine import create_store_engine
from worker.store.versioning import migrate

pytestmark = pytest.mark.kafka

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@contextmanager
def _relay_thread(engine: Engine, producer: Producer) -> Iterator[OutboxRelay]:
    """A relay publishing in its own thread (sweeping every 0.1 s, never giving up), stopped
    on the way out; the caller closes the producer and the engine."""
    shutdown = Shutdown()
    relay = OutboxRelay(engine, producer, sweep_interval_s=0.1, retry_budget_s=3_600)
    thread = relay.start_in_thread(shutdown)
    try:
        yield relay
        assert relay.failure is None and thread.is_alive()  # still going
    finally:
        shutdown.request()
        relay.wake()
        thread.join(timeout=5)


def test_rows_are_published_in_order_marked_then_purged(
    kafka_bootstrap: str, migrated: str, make_topic
) -> None:
    topic = make_topic(1)
    engine = create_store_engine(migrated)
    producer = Producer(Settings(kafka_bootstrap_servers=kafka_bootstrap))
    try:
        with engine.begin() as connection:
            append(
                connection,
                [
                    OutboxMessage(topic, f"acme:C-{n % 3}", f'{{"n": {n}}}', {"h": "v"})
                    for n in range(1200)
                ],
                NOW,
            )
        relay = OutboxRelay(engine, producer, batch_size=500)
        assert relay.publish_pending() == 1200
        assert relay.publish_pending() == 0
        assert count_rows(migrated, "outbox WHERE published_at IS NULL") == 0
        records = read_until(kafka_bootstrap, topic, lambda r: len(r) >= 1200, settle_s=0.5)
        assert [r.value for r in records] == [f'{{"n": {n}}}'.encode() for n in range(1200)]
        assert records[0].key == b"acme:C-0" and dict(records[0].headers) == {"h": b"v"}

        with engine.begin() as connection:
            append(connection, [OutboxMessage(topic, "acme:C-9", "{}")], NOW)
        assert relay.purge_published(datetime.now(UTC)) == 0  # published just now: kept
        later = datetime.now(UTC) + PUBLISHED_RETENTION + timedelta(minutes=1)
        assert relay.purge_published(later) == 1200
        assert count_rows(migrated, "outbox") == 1  # the unpublished row stays
    finally:
        producer.close()
        engine.dispose()


def test_a_standby_relay_still_reports_the_backlog(
    kafka_bootstrap: str, migrated: str, make_topic
) -> None:
    """Two `reengage relay` processes: the one scraped may be the standby, whose /metrics
    must show the backlog rather than a 0 while the leader is stuck (here: never publishes)."""
    topic = make_topic(1)
    engine = create_store_engine(migrated)
    leader = RelayLeadership(create_store_engine(migrated))
    assert leader.try_acquire()
    producer = Producer(Settings(kafka_bootstrap_servers=kafka_bootstrap))
    try:
        with _relay_thread(engine, producer):
            # The gauge's age is by the wall clock (how long the rows have waited), so the rows
            # are dated an hour before it rather than at the fixed NOW.
            dated = datetime.now(UTC) - timedelta(hours=1)
            with engine.begin() as connection:
                append(connection, [OutboxMessage(topic, "acme:C-1", "{}")] * 3, dated)

            def showing_these_rows() -> bool:
                # The gauges are the process's: until the standby's first refresh they hold
                # whatever an earlier test left. Once refreshed, the age was read between
                # the rows' writing and now, so by the wall clock within that span.
                pending = REGISTRY.get_sample_value("reengage_outbox_pending")
                oldest = REGISTRY.get_sample_value("reengage_outbox_oldest_seconds") or 0.0
                waited = (datetime.now(UTC) - dated).total_seconds()
                return pending == 3 and 3600 <= oldest <= waited

            wait_for(showing_these_rows, "the gauges to show these rows")
            assert count_rows(migrated, "outbox WHERE published_at IS NULL") == 3
    finally:
        leader.release()
        producer.close()
        engine.dispose()


class _GaugeReadingProducer(Producer):
    """The real producer, noting the backlog gauge each time a batch goes out."""

    pending_at_send: list[float | None]

    def send_all(self, messages: Sequence[Outgoing], timeout_s: float = 30.0) -> None:
        self.pending_at_send.append(REGISTRY.get_sample_value("reengage_outbox_pending"))
        super().send_all(messages, timeout_s)


def test_the_backlog_gauges_follow_a_long_drain_down(
    kafka_bootstrap: str, migrated: str, make_topic
) -> None:
    topic = make_topic(1)
    engine = create_store_engine(migrated)
    producer = _GaugeReadingProducer(Settings(kafka_bootstrap_servers=kafka_bootstrap))
    producer.pending_at_send = []
    try:
        with engine.begin() as connection:
            append(connection, [OutboxMessage(topic, "acme:C-1", "{}")] * 300, NOW)
        relay = OutboxRelay(engine, producer, batch_size=100, sweep_interval_s=0.0)
        relay.refresh_gauges()
        assert relay.publish_pending() == 300
        assert producer.pending_at_send == [300, 200, 100]
        assert REGISTRY.get_sample_value("reengage_outbox_pending") == 0
    finally:
        producer.close()
        engine.dispose()


class _ImpatientProducer(Producer):
    """The real producer, waiting 3 s for an acknowledgement rather than 30."""

    def send_all(self, messages: Sequence[Outgoing], timeout_s: float = 30.0) -> None:
        super().send_all(messages, min(timeout_s, 3.0))


# A broker matter: the gauges' query runs on both databases in the tests above.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_backlog_gauges_follow_the_outbox_while_publishing_is_retried(
    kafka_bootstrap: str, migrated: str, make_topic, freeze_broker: FreezeBroker
) -> None:
    """Before, they kept the reading from before the first failed attempt for the whole
    outage: 0 with rows waiting, or rows since published by another relay."""
    topic = make_topic(1)
    engine = create_store_engine(migrated)
    # Short client timeouts, so that each attempt during the outage fails within seconds.
    producer = _ImpatientProducer(
        Settings(kafka_bootstrap_servers=kafka_bootstrap),
        request_timeout_ms=1_000,
        delivery_timeout_ms=2_000,
    )
    producer.send_all([Outgoing(topic, b"acme:C-0", b"{}")])  # metadata known before the outage
    try:
        with _relay_thread(engine, producer):
            with freeze_broker():
                for added, expected in ((3, 3), (2, 5)):
                    with engine.begin() as connection:
                        append(connection, [OutboxMessage(topic, "acme:C-1", "{}")] * added, NOW)
                    wait_for(
                        lambda expected=expected: (
                            REGISTRY.get_sample_value("reengage_outbox_pending") == expected
                        ),
                        f"the gauge at {expected}",
                    )
            # The outage over, the retried batches go out and the gauge follows them down.
            wait_for(lambda: REGISTRY.get_sample_value("reengage_outbox_pending") == 0, "a drain")
            assert count_rows(migrated, "outbox WHERE published_at IS NULL") == 0
    finally:
        producer.close()
        engine.dispose()


def test_only_one_relay_leads_per_database(migrated: str) -> None:
    first_engine, second_engine = create_store_engine(migrated), create_store_engine(migrated)
    first, second = RelayLeadership(first_engine), RelayLeadership(second_engine)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()


def _readyz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_the_relay_is_ready_while_its_database_answers(
    kafka_bootstrap: str, topics: Topics, group_id: str, tmp_path: Path, own_postgres: LocalPostgres
) -> None:
    server = own_postgres
    migrate(server.url)
    env = base_env(kafka_bootstrap, server.url, topics, group_id)
    with running(["relay"], env, tmp_path / "relay.log") as relay:
        port = http_port_of(relay)
        assert _readyz(port) == (200, "ready\n")
        server.halt()
        wait_for(lambda: _readyz(port) == (503, "database unreachable\n"), "not ready")
        server.resume()
        wait_for(lambda: _readyz(port) == (200, "ready\n"), "ready again")
        relay.signal(signal.SIGTERM)
        assert relay.wait(timeout=60) == 0, relay.output()


def test_a_row_the_topic_refuses_for_its_size_stops_the_relay_naming_it(
    kafka_bootstrap: str, migrated: str, make_topic
) -> None:
    topic = make_topic(1, configs={"max.message.bytes": "2000"})
    engine = create_store_engine(migrated)
    producer = Producer(Settings(kafka_bootstrap_servers=kafka_bootstrap))
    try:
        with engine.begin() as connection:
            append(
                connection,
                [
                    OutboxMessage(topic, "acme:C-1", '"' + "x" * 5_000 + '"'),
                    OutboxMessage(topic, "acme:C-1", "{}"),
                ],
                NOW,
            )
        relay = OutboxRelay(engine, producer, sweep_interval_s=0.1)
        with pytest.raises(OutboxRowTooLargeError) as stopped:
            relay.publish_pending()
        assert f"is larger than topic {topic} accepts" in str(stopped.value)
        assert "(5002 bytes)" in str(stopped.value)
        assert count_rows(migrated, "outbox WHERE published_at IS NULL") == 2  # none skipped
    finally:
        producer.close()
        engine.dispose()


@pytest.mark.postgres
def test_rows_are_published_once_while_the_database_refuses_to_mark_them(
    kafka_bootstrap: str, pg_database_url: str, make_topic
) -> None:
    """A database that accepts reads but not writes (a failover's standby): the relay keeps
    retrying the marking alone. Before, each attempt of the cycle published the rows again."""
    migrate(pg_database_url)
    topic = make_topic(1)
    engine = create_store_engine(pg_database_url)
    with engine.begin() as connection:
        append(
            connection, [OutboxMessage(topic, "acme:C-1", f'{{"n": {n}}}') for n in range(3)], NOW
        )
    database = make_url(pg_database_url).database
    as_admin(pg_database_url, f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    engine.dispose()  # new connections: read-only from here
    producer = Producer(Settings(kafka_bootstrap_servers=kafka_bootstrap))
    try:
        with _relay_thread(engine, producer):
            read_until(kafka_bootstrap, topic, lambda r: len(r) >= 3)
            time.sleep(3)  # several attempts at marking (0.5 s, then 1-2 s apart)
            as_admin(
                pg_database_url, f'ALTER DATABASE "{database}" RESET default_transaction_read_only'
            )
            wait_for(
                lambda: count_rows(pg_database_url, "outbox WHERE published_at IS NULL") == 0,
                "the rows marked",
            )
    finally:
        producer.close()
        engine.dispose()
    records = read_until(kafka_bootstrap, topic, lambda r: len(r) >= 3, settle_s=0.5)
    assert [r.value for r in records] == [f'{{"n": {n}}}'.encode() for n in range(3)]
