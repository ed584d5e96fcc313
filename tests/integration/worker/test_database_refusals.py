"""PostgreSQL refusing every statement, whatever the event: the worker waits or stops, and
dead-letters nothing. Before, both drained every valid event into the dead-letter topic."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.fixtures.databases import as_admin
from tests.integration.worker.harness import (
    Topics,
    base_env,
    count_rows,
    publish,
    read_until,
    running,
    wait_for,
)
from tests.integration.worker.pools import make_pool
from worker.store.versioning import migrate

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SIZE = 20


def _no_dead_letters(bootstrap: str, topics: Topics) -> bool:
    return read_until(bootstrap, topics.candidates + ".dlq", lambda r: False, timeout_s=2) == []


def test_a_database_that_accepts_only_reads_is_waited_for(
    kafka_bootstrap: str, pg_database_url: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    """As after a failover that left the URL on a standby. Once writes are accepted again,
    the pool's new connections (the read-only ones were dropped) store every event."""
    migrate(pg_database_url)
    database = make_url(pg_database_url).database
    as_admin(pg_database_url, f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    publish(kafka_bootstrap, topics.candidates, make_pool(seed=3, size=SIZE).messages())
    env = base_env(kafka_bootstrap, pg_database_url, topics, group_id)
    with running(["worker"], env, tmp_path / "w.log") as worker:
        wait_for(lambda: '"sqlstate": "25006"' in worker.output(), "a write refused")
        assert count_rows(pg_database_url, "candidates") == 0
        as_admin(
            pg_database_url, f'ALTER DATABASE "{database}" RESET default_transaction_read_only'
        )
        wait_for(lambda: count_rows(pg_database_url, "candidates") == SIZE, "every event stored")
        assert worker.stop() == 0, worker.output()
    assert _no_dead_letters(kafka_bootstrap, topics)


def test_a_missing_table_stops_the_worker_and_the_events_wait_for_the_fix(
    kafka_bootstrap: str, pg_database_url: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    """A table renamed by hand (as a revoked privilege would): exit 1 with one line naming
    the SQLSTATE, no offset committed, so the next run after the fix stores everything."""
    migrate(pg_database_url)
    as_admin(pg_database_url, "ALTER TABLE candidates RENAME TO candidates_elsewhere")
    publish(kafka_bootstrap, topics.candidates, make_pool(seed=3, size=SIZE).messages())
    env = base_env(kafka_bootstrap, pg_database_url, topics, group_id)
    with running(["worker"], env, tmp_path / "w1.log") as worker:
        assert worker.wait(60) == 1, worker.output()
        output = worker.output()
    assert "the database refuses the worker's statements" in output and "42P01" in output
    assert _no_dead_letters(kafka_bootstrap, topics)

    as_admin(pg_database_url, "ALTER TABLE candidates_elsewhere RENAME TO candidates")
    with running(["worker"], env, tmp_path / "w2.log") as worker:
        wait_for(lambda: count_rows(pg_database_url, "candidates") == SIZE, "every event stored")
        assert worker.stop() == 0, worker.output()
    assert _no_dead_letters(kafka_bootstrap, topics)
