"""Ctrl-C while `make run` still waits for its database ends it at once, with exit 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.integration.worker.harness import wait_for


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ctrl_c_while_waiting_for_the_database_exits_0(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env = {
        **clean,
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "REENGAGE_DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/x",
        "REENGAGE_STARTUP_TIMEOUT_SECONDS": "3600",  # were Ctrl-C ignored, the test would hang
        "REENGAGE_LOG_FORMAT": "json",
    }
    log_path = tmp_path / "make-run.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "worker.devrun",
                "--mail-dir",
                str(tmp_path),
                "--smtp-port",
                "0",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(
                lambda: "cannot reach the database" in log_path.read_text(errors="replace"),
                "the wait for the database",
            )
            popen.send_signal(signal.SIGINT)
            assert popen.wait(timeout=30) == 0, log_path.read_text(errors="replace")
        finally:
            if popen.poll() is None:
                popen.kill()
                popen.wait(timeout=10)
