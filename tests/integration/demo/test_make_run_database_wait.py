"""`make run` waiting for its database or for a configured broker: Ctrl-C ends the wait at
once with exit 0, and a broker that never answers is a configuration error naming it."""

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


def _make_run(env: dict[str, str], tmp_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    command = [sys.executable, "-m", "worker.devrun", "--mail-dir", str(tmp_path)]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [*command, "--smtp-port", "0"],
            env={**clean, "REENGAGE_LOG_FORMAT": "json", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def test_a_configured_broker_that_never_answers(tmp_path: Path) -> None:
    env = {
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_closed_port()}",
        "REENGAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'reengage.db'}",
    }
    log_path = tmp_path / "waiting.log"
    waiting = _make_run({**env, "REENGAGE_STARTUP_TIMEOUT_SECONDS": "3600"}, tmp_path, log_path)
    try:
        wait_for(
            lambda: "cannot reach Kafka" in log_path.read_text(errors="replace"),
            "the wait for the broker",
        )
        waiting.send_signal(signal.SIGINT)
        assert waiting.wait(timeout=30) == 0, log_path.read_text(errors="replace")
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait(timeout=10)

    log_path = tmp_path / "giving-up.log"
    giving_up = _make_run({**env, "REENGAGE_STARTUP_TIMEOUT_SECONDS": "1"}, tmp_path, log_path)
    assert giving_up.wait(timeout=60) == 2, log_path.read_text(errors="replace")
    last = log_path.read_text(errors="replace").strip().splitlines()[-1]
    assert "REENGAGE_KAFKA_BOOTSTRAP_SERVERS" in last
