"""`make run` with no broker configured and none answering: it starts the repository's local
broker, and Ctrl-C stops it again after the worker and the mailer."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dev.kafka_jars import MissingToolError, find_java
from dev.local_kafka import free_loopback_ports

READY = re.compile(r"reengage: ready · status page http://localhost:\d+/")


@pytest.fixture
def java() -> str:
    try:
        return find_java()
    except MissingToolError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Java is required under CI: {exc}", pytrace=False)
        pytest.skip(str(exc))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_make_run_starts_the_local_broker_and_ctrl_c_stops_it(java: str, tmp_path: Path) -> None:
    kafka_port, http_port = free_loopback_ports(2)
    data_dir = tmp_path / "kafka"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env.update(
        {
            "REENGAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'reengage.db'}",
            "REENGAGE_HTTP_PORT": str(http_port),
            "REENGAGE_LOG_FORMAT": "json",
            "REENGAGE_KAFKA_SESSION_TIMEOUT_MS": "6000",
        }
    )
    log_path = tmp_path / "make-run.log"
    command = [sys.executable, "-m", "worker.devrun", "--kafka-port", str(kafka_port)]
    command += ["--kafka-data-dir", str(data_dir), "--mail-dir", str(tmp_path / "mail")]
    command += ["--smtp-port", "0"]
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not READY.search(log_path.read_text(errors="replace")):
            assert popen.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.2)
        output = log_path.read_text(errors="replace")
        assert f"127.0.0.1:{kafka_port} (started here, stopped on exit)" in output
        broker_pid = int((data_dir / "broker.pid").read_text().strip())
        assert alive(broker_pid)

        popen.send_signal(signal.SIGINT)
        assert popen.wait(timeout=45) == 0, log_path.read_text(errors="replace")
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait(timeout=10)
            subprocess.run(
                [sys.executable, "-m", "dev.local_kafka", "down", "--data-dir", str(data_dir)],
                check=False,
            )
    output = log_path.read_text(errors="replace")
    assert output.index("worker stopped") < output.index(f"broker pid {broker_pid} stopped")
    assert not alive(broker_pid)
    assert not (data_dir / "broker.pid").exists()
