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
    env = {
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "REENGAGE_DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/x",
        "REENGAGE_STARTUP_TIMEOUT_SECONDS": "3600",  # were Ctrl-C ignored, the test would hang
    }
    _interrupt_while(
        _make_run(env, tmp_path, tmp_path / "make-run.log"), "cannot reach the database"
    )


class _MakeRun:
    def __init__(self, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.popen, self.log_path = popen, log_path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def _interrupt_while(run: _MakeRun, waiting_for: str) -> None:
    """Once the log shows the wait, Ctrl-C must end the process with exit 0."""
    try:
        wait_for(lambda: waiting_for in run.output(), waiting_for)
        run.popen.send_signal(signal.SIGINT)
        assert run.popen.wait(timeout=30) == 0, run.output()
    finally:
        if run.popen.poll() is None:
            run.popen.kill()
            run.popen.wait(timeout=10)


def _make_run(env: dict[str, str], tmp_path: Path, log_path: Path) -> _MakeRun:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    command = [sys.executable, "-m", "worker.devrun", "--mail-dir", str(tmp_path)]
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [*command, "--smtp-port", "0"],
            env={**clean, "REENGAGE_LOG_FORMAT": "json", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return _MakeRun(popen, log_path)


def test_a_configured_broker_that_never_answers(tmp_path: Path) -> None:
    env = {
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_closed_port()}",
        "REENGAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'reengage.db'}",
    }
    waiting = _make_run(
        {**env, "REENGAGE_STARTUP_TIMEOUT_SECONDS": "3600"}, tmp_path, tmp_path / "waiting.log"
    )
    _interrupt_while(waiting, "cannot reach Kafka")

    giving_up = _make_run(
        {**env, "REENGAGE_STARTUP_TIMEOUT_SECONDS": "1"}, tmp_path, tmp_path / "giving-up.log"
    )
    assert giving_up.popen.wait(timeout=60) == 2, giving_up.output()
    assert "REENGAGE_KAFKA_BOOTSTRAP_SERVERS" in giving_up.output().strip().splitlines()[-1]
