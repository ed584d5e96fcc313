"""Reading back whether the database keeps a commit once it has returned."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from structlog.testing import capture_logs

from worker.runtime.startup import check_database
from worker.store.durability import commit_durability_gaps
from worker.store.engine import create_store_engine
from worker.store.versioning import migrate_engine


def test_the_stores_sqlite_connections_are_durable(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as connection:
            assert commit_durability_gaps(connection) == []
    finally:
        engine.dispose()


def test_sqlite_at_normal_is_reported(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "other.db").close()
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")  # not the store's settings
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA synchronous = NORMAL")
            assert commit_durability_gaps(connection) == ["synchronous=1"]
    finally:
        engine.dispose()


def test_postgresql_synchronous_commit_off_is_reported(postgres_url: str) -> None:
    engine = create_store_engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET synchronous_commit = off")
            assert "synchronous_commit=off" in commit_durability_gaps(connection)
            connection.exec_driver_sql("SET synchronous_commit = on")
            assert not any(
                gap.startswith("synchronous_commit") for gap in commit_durability_gaps(connection)
            )
    finally:
        engine.dispose()


def _migrated(url: str) -> Engine:
    engine = create_store_engine(url)
    migrate_engine(engine)
    return engine


def test_start_up_warns_only_when_commits_may_be_lost(tmp_path: Path) -> None:
    durable = _migrated(f"sqlite:///{tmp_path / 'durable.db'}")
    lossy = _migrated(f"sqlite:///{tmp_path / 'lossy.db'}")
    lossy.pool.dispose()

    @event.listens_for(lossy, "connect")
    def _undo_durability(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous = OFF")  # after the store's own settings

    try:
        with capture_logs() as quiet:
            check_database(durable, timeout_s=5, shutdown=None)
        with capture_logs() as warned:
            check_database(lossy, timeout_s=5, shutdown=None)
    finally:
        durable.dispose()
        lossy.dispose()
    assert [e for e in quiet if e["log_level"] == "warning"] == []
    assert [(e["log_level"], e["settings"]) for e in warned if "settings" in e] == [
        ("warning", ["synchronous=0"])
    ]


def test_migrate_warns_as_the_other_commands_do(pg_database_url: str) -> None:
    """`reengage migrate` checks the database too (worker.md says every such command warns)."""
    engine = create_store_engine(pg_database_url)
    try:
        with engine.connect() as connection:
            gaps = commit_durability_gaps(connection)
    finally:
        engine.dispose()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    result = subprocess.run(
        [sys.executable, "-m", "worker.entry", "migrate"],
        env={**clean, "REENGAGE_DATABASE_URL": pg_database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    warned = "database commits may be lost" in result.stderr + result.stdout
    assert warned == bool(gaps), (gaps, result.stderr)
