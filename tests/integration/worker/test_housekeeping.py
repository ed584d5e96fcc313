"""What the worker keeps tidy while it runs: processed markers past their expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.worker.harness import Topics, base_env, count_rows, running, wait_for
from worker.ingest.dedupe import claim_unprocessed
from worker.store.engine import create_store_engine
from worker.store.schema import ProcessedEventRow

pytestmark = pytest.mark.kafka


def test_the_worker_deletes_expired_markers_and_keeps_the_rest(
    kafka_bootstrap: str, migrated: str, topics: Topics, group_id: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    engine = create_store_engine(migrated)
    try:
        with engine.begin() as connection:
            claim_unprocessed(
                connection,
                [
                    (("urn:ats:test", "expired"), now - timedelta(days=1)),
                    (("urn:ats:test", "not-yet"), now + timedelta(days=1)),
                    (("urn:ats:test", "kept"), None),
                ],
                now - timedelta(days=8),
            )
        env = base_env(kafka_bootstrap, migrated, topics, group_id)
        with running(["worker"], env, tmp_path / "worker.log") as worker:
            wait_for(lambda: count_rows(migrated, "processed_events") == 2, "expired marker gone")
            assert worker.stop() == 0, worker.output()
        with engine.connect() as connection:
            left = set(connection.execute(select(ProcessedEventRow.event_id)).scalars())
    finally:
        engine.dispose()
    assert left == {"not-yet", "kept"}
