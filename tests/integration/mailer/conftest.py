"""Fixtures for the mailer: a migrated database (SQLite and PostgreSQL), its topics, and the
environment that points `reengage mailer` at them and at a test SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.fixtures.kafka import MakeTopic
from tests.integration.mailer.harness import MailerEnv, MailerProcess
from worker.store.engine import create_store_engine
from worker.store.versioning import migrate_engine


@pytest.fixture
def mailer_database(database_url: str) -> Iterator[str]:
    engine = create_store_engine(database_url)
    migrate_engine(engine)
    engine.dispose()
    yield database_url


@pytest.fixture
def ledger_engine(mailer_database: str) -> Iterator[Engine]:
    engine = create_store_engine(mailer_database)
    yield engine
    engine.dispose()


@pytest.fixture
def mailer_env(
    kafka_bootstrap: str, make_topic: MakeTopic, group_id: str, mailer_database: str
) -> Callable[[int], MailerEnv]:
    """`mailer_env(smtp_port)`: fresh outreach (3 partitions) and status topics."""
    outreach = make_topic(3)
    status = make_topic(1)
    make_topic(1, name=outreach + ".dlq")

    def build(smtp_port: int, rate_per_second: float = 1000.0) -> MailerEnv:
        return MailerEnv(
            bootstrap=kafka_bootstrap,
            database_url=mailer_database,
            outreach_topic=outreach,
            status_topic=status,
            group=group_id,
            smtp_port=smtp_port,
            rate_per_second=rate_per_second,
        )

    return build


@pytest.fixture
def start_mailer(tmp_path: Path) -> Iterator[Callable[[MailerEnv], MailerProcess]]:
    started: list[MailerProcess] = []

    def start(env: MailerEnv) -> MailerProcess:
        process = MailerProcess(env, tmp_path / f"mailer-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()
