"""Start-up failures are configuration errors: exit 2, one line naming the setting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from worker.store.versioning import migrate


def _reengage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        env={**clean, "REENGAGE_STARTUP_TIMEOUT_SECONDS": "1", "REENGAGE_HTTP_PORT": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_outdated_schema_asks_for_migrate(sqlite_url: str) -> None:
    result = _reengage("worker", REENGAGE_DATABASE_URL=sqlite_url)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "REENGAGE_DATABASE_URL" in line and "reengage migrate" in line


def test_an_unreachable_broker_names_the_bootstrap_setting(sqlite_url: str) -> None:
    migrate(sqlite_url)
    result = _reengage(
        "worker",
        REENGAGE_DATABASE_URL=sqlite_url,
        REENGAGE_KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{_closed_port()}",
    )
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("reengage: configuration error: REENGAGE_KAFKA_BOOTSTRAP_SERVERS")


def test_an_unreachable_database_names_the_database_setting() -> None:
    url = f"postgresql+psycopg://nobody:hunter2@127.0.0.1:{_closed_port()}/reengage"
    result = _reengage("worker", REENGAGE_DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "REENGAGE_DATABASE_URL" in last
    assert "hunter2" not in result.stderr + result.stdout
