"""`make run` when its ports are taken: it stops at once with one line naming the setting,
instead of waiting a minute on a server that is not a broker, or printing "ready" for another
`make run`'s worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

from dev.local_kafka import free_loopback_ports
from tests.integration.demo.test_make_run_broker import REPOSITORY
from tests.integration.worker.harness import Topics


def _devrun(
    tmp_path: Path, kafka_port: int, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "worker.devrun", "--kafka-port", str(kafka_port)]
    command += ["--kafka-data-dir", str(tmp_path / "kafka"), "--mail-dir", str(tmp_path / "mail")]
    command += ["--smtp-port", "0"]
    return subprocess.run(
        command, cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env["REENGAGE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'reengage.db'}"
    return env


def test_a_port_held_by_something_that_is_not_a_broker_is_named(tmp_path: Path) -> None:
    (kafka_port,) = free_loopback_ports(1)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", kafka_port))
        listener.listen()  # accepts connections, never answers Kafka's protocol
        result = _devrun(tmp_path, kafka_port, _base_env(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "reengage: configuration error: REENGAGE_KAFKA_BOOTSTRAP_SERVERS: port "
        f"{kafka_port} is taken by something that is not a Kafka broker: stop it, or give "
        "`make run KAFKA_PORT=<a free port>`"
    )
    assert not (tmp_path / "kafka").exists()  # no local broker was started either


def test_a_taken_status_page_port_is_named_before_anything_starts(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    kafka_port, http_port = free_loopback_ports(2)
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(
        *(f"ports-{name}-{suffix}" for name in ("jobs", "candidates", "outreach", "status"))
    )
    env = _base_env(tmp_path) | topics.env()
    env |= {
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "REENGAGE_CONSUMER_GROUP": f"ports-{suffix}",
        "REENGAGE_HTTP_PORT": str(http_port),
    }
    with socket.socket() as other_run:
        other_run.bind(("0.0.0.0", http_port))  # where a worker's HTTP server binds
        other_run.listen()
        result = _devrun(tmp_path, kafka_port, env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"reengage: configuration error: REENGAGE_HTTP_PORT: port {http_port} is taken (another "
        "`make run`?): stop it, or set the variable to a free port"
    )
    assert "ready" not in result.stdout
