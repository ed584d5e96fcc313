"""`make run` with no broker configured and none answering: it starts the repository's local
broker, and Ctrl-C stops it again after the worker and the mailer. With a broker set only in
`.env`, it uses that one and starts none."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dev.kafka_jars import MissingToolError, find_java
from dev.local_kafka import free_loopback_ports
from tests.integration.worker.harness import Topics

REPOSITORY = Path(__file__).resolve().parents[3]

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


@contextmanager
def devrun(
    tmp_path: Path, kafka_port: int, env: dict[str, str], cwd: Path = REPOSITORY
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`python -m worker.devrun` (what `make run` runs) with its broker data in tmp_path/kafka,
    yielded once it is ready with its log; killed, its local broker stopped, if still running
    at the end."""
    data_dir = tmp_path / "kafka"
    log_path = tmp_path / "make-run.log"
    command = [sys.executable, "-m", "worker.devrun", "--kafka-port", str(kafka_port)]
    command += ["--kafka-data-dir", str(data_dir), "--mail-dir", str(tmp_path / "mail")]
    command += ["--smtp-port", "0"]
    with log_path.open("wb") as log:
        popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not READY.search(log_path.read_text(errors="replace")):
            assert popen.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.2)
        yield popen, log_path
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait(timeout=10)
            subprocess.run(
                [sys.executable, "-m", "dev.local_kafka", "down", "--data-dir", str(data_dir)],
                check=False,
                cwd=REPOSITORY,
            )


def stop_with_ctrl_c(popen: subprocess.Popen[bytes], log_path: Path) -> str:
    popen.send_signal(signal.SIGINT)
    assert popen.wait(timeout=45) == 0, log_path.read_text(errors="replace")
    return log_path.read_text(errors="replace")


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
    with devrun(tmp_path, kafka_port, env) as (popen, log_path):
        output = log_path.read_text(errors="replace")
        assert f"127.0.0.1:{kafka_port} (started here, stopped on exit)" in output
        broker_pid = int((data_dir / "broker.pid").read_text().strip())
        assert alive(broker_pid)
        output = stop_with_ctrl_c(popen, log_path)
    assert output.index("worker stopped") < output.index(f"broker pid {broker_pid} stopped")
    assert not alive(broker_pid)
    assert not (data_dir / "broker.pid").exists()


def test_make_run_uses_the_broker_set_only_in_dot_env(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Every setting in `.env`, none in the environment: the broker there is used as is and
    no local broker starts on the (free) local port."""
    kafka_port, http_port = free_loopback_ports(2)
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(
        *(f"dotenv-{name}-{suffix}" for name in ("jobs", "candidates", "outreach", "status"))
    )
    dotenv = {
        **topics.env(),
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "REENGAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'reengage.db'}",
        "REENGAGE_CONSUMER_GROUP": f"dotenv-{suffix}",
        "REENGAGE_HTTP_PORT": str(http_port),
        "REENGAGE_LOG_FORMAT": "json",
        "REENGAGE_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env["PYTHONPATH"] = str(REPOSITORY)
    with devrun(tmp_path, kafka_port, env, cwd=tmp_path) as (popen, log_path):
        output = log_path.read_text(errors="replace")
        assert f"{kafka_bootstrap} (already running)" in output
        assert not (tmp_path / "kafka").exists()
        stop_with_ctrl_c(popen, log_path)
