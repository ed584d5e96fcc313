"""The /readyz database check against a real SQLite file and a port nobody listens on."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from worker.runtime.readiness import database_answers
from worker.store.engine import create_store_engine, ping


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_database_that_answers_is_ready(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        assert database_answers(engine)() == (True, "")
    finally:
        engine.dispose()


def test_an_unreachable_database_is_not_ready_and_the_reason_hides_the_url() -> None:
    url = f"postgresql+psycopg://nobody:hunter2@127.0.0.1:{_closed_port()}/reengage"
    engine = create_store_engine(url, connect_args={"connect_timeout": 5})
    try:
        ready, why = database_answers(engine)()
    finally:
        engine.dispose()
    assert not ready
    assert why == "database unreachable"


def test_a_sqlite_database_being_written_by_another_process_is_ready(tmp_path: Path) -> None:
    """A writer holding SQLite's lock (a batch, the mailer, another worker) must not make the
    probe wait for the lock and then call the database unreachable."""
    path = tmp_path / "r.db"
    engine = create_store_engine(f"sqlite:///{path}")
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        ping(engine)  # creates the file in write-ahead mode, as the worker's engine does
        writer.execute("PRAGMA busy_timeout = 0")
        writer.execute("BEGIN IMMEDIATE")
        # Waiting for the lock would run out the engine's busy timeout and fail the probe.
        assert database_answers(engine)() == (True, "")
    finally:
        writer.close()
        engine.dispose()
