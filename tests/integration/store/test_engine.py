"""Connection and transaction settings the store relies on, read back from real databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.errors import TransientError
from worker.ingest.dedupe import delete_expired_markers
from worker.store.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_store_engine,
    in_transaction,
)


def test_sqlite_commits_are_durable_write_ahead_and_wait_for_the_lock(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL: the write-ahead log is synced at every commit
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    }


def test_housekeeping_gives_up_on_a_held_lock_and_others_still_wait(migrated: str) -> None:
    """A transaction told to wait at most a moment for a lock fails instead of waiting the
    holder out (SQLite: the writer lock, 30 s otherwise; PostgreSQL: a table lock), and the
    connection it used waits as long as ever for the next transaction."""
    engine = create_store_engine(migrated, pool_size=1, max_overflow=1)
    holder = create_store_engine(migrated)
    release = threading.Event()
    held = threading.Event()

    def hold_the_lock() -> None:
        with holder.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE")
            held.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        assert held.wait(timeout=30)
        with pytest.raises(TransientError):
            in_transaction(
                engine,
                lambda connection: delete_expired_markers(connection, datetime.now(UTC), 10),
                lock_wait_ms=200,
            )
        # Released a moment after the next transaction starts waiting: it waits and succeeds.
        threading.Timer(0.5, release.set).start()
        with engine.begin() as connection:
            assert delete_expired_markers(connection, datetime.now(UTC), 10) == 0
    finally:
        release.set()
        thread.join()
        engine.dispose()
        holder.dispose()
