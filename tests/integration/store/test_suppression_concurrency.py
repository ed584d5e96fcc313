"""A bounce and a snapshot bringing the bounced address, in two PostgreSQL transactions at
once: whichever commits first, the snapshot's candidate ends up flagged (rule 4)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tests.integration.store.builders import TENANT, snapshot
from tests.integration.worker.harness import wait_for
from worker.store.candidates import load_candidates, upsert_candidates
from worker.store.engine import create_store_engine
from worker.store.suppression import suppress_email
from worker.store.versioning import migrate_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(pg_database_url: str) -> Iterator[Engine]:
    engine = create_store_engine(pg_database_url, pool_size=2, max_overflow=0)
    migrate_engine(engine)
    yield engine
    engine.dispose()


def test_a_bounce_waits_for_a_snapshot_of_its_tenant_in_flight(
    pg_engine: Engine, pg_database_url: str
) -> None:
    """Without the tenant's lock on its reports, the snapshot reads no report, the bounce
    cannot see the snapshot's uncommitted candidate, and both commit: c-2 stays usable."""
    with pg_engine.begin() as connection:
        upsert_candidates(connection, [snapshot("c-1", email="jane@example.com")])
    bounced = threading.Event()

    def bounce() -> None:
        with pg_engine.begin() as connection:
            suppress_email(connection, TENANT, "c-1")
        bounced.set()

    bouncer = threading.Thread(target=bounce)
    watcher = create_store_engine(pg_database_url)
    try:
        with pg_engine.begin() as connection:
            upsert_candidates(connection, [snapshot("c-2", email="Jane@Example.com")])
            bouncer.start()
            # Commit only once the bounce is blocked on a lock: committing first would let
            # the bounce see c-2 whether or not it waits, and the test could not fail.
            wait_for(lambda: _backends_waiting_on_a_lock(watcher) == 1, "the bounce to wait")
            waited = not bounced.is_set()
        bouncer.join(timeout=30)
    finally:
        watcher.dispose()
    with pg_engine.connect() as connection:
        stored = load_candidates(connection, TENANT, ["c-1", "c-2"])
    assert waited
    assert {c: s.email_suppressed for c, s in stored.items()} == {"c-1": True, "c-2": True}


def _backends_waiting_on_a_lock(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )
