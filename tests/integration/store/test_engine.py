"""The SQLite connection settings the store relies on, read back from a real database file."""

from __future__ import annotations

from pathlib import Path

from worker.store.engine import SQLITE_BUSY_TIMEOUT_MS, create_store_engine


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
