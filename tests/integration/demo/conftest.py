"""`make run` as a process (worker + relay + mailer + SMTP catcher) against the session's
broker and a SQLite file, shared by the module's tests; and headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.worker.harness import Topics

SMTP_ANY_PORT = ("--smtp-port", "0")
READY = re.compile(r"reengage: ready · status page (http://localhost:\d+/)")


@dataclass
class LocalRun:
    """A running `python -m worker.devrun` (what `make run` runs)."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]
    database_url: str
    mail_dir: Path
    status_url: str = ""

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def reengage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a `reengage` command as `make demo` does, in this run's environment."""
        return subprocess.run(
            [sys.executable, "-m", "worker.entry", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def stop(self, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)  # what Ctrl-C delivers
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
            raise


def _topics(kafka_admin: Any) -> Topics:
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(
        jobs=f"demo-jobs-{suffix}",
        candidates=f"demo-candidates-{suffix}",
        outreach=f"demo-outreach-{suffix}",
        status=f"demo-status-{suffix}",
    )
    partitions = {topics.jobs: 2, topics.candidates: 3, topics.outreach: 3, topics.status: 1}
    kafka_admin.create_topics(
        {name: {"num_partitions": n, "replication_factor": 1} for name, n in partitions.items()},
        wait_for_metadata=True,
    )
    return topics


@pytest.fixture(scope="module")
def local_run(
    kafka_bootstrap: str, kafka_admin: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalRun]:
    folder = tmp_path_factory.mktemp("make-run")
    database_url = f"sqlite:///{folder / 'reengage.db'}"
    topics = _topics(kafka_admin)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env.update(topics.env())
    env.update(
        {
            "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "REENGAGE_DATABASE_URL": database_url,
            "REENGAGE_CONSUMER_GROUP": f"demo-{uuid.uuid4().hex[:8]}",
            "REENGAGE_HTTP_PORT": "0",
            "REENGAGE_LOG_FORMAT": "json",
            "REENGAGE_MAIL_RATE_PER_SECOND": "500",
            "REENGAGE_RELAY_SWEEP_SECONDS": "0.2",
            "REENGAGE_STARTUP_TIMEOUT_SECONDS": "30",
            "REENGAGE_KAFKA_SESSION_TIMEOUT_MS": "6000",
        }
    )
    mail_dir = folder / "mail"
    log_path = folder / "make-run.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "worker.devrun", "--mail-dir", str(mail_dir), *SMTP_ANY_PORT],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    run = LocalRun(popen, log_path, env, database_url, mail_dir)
    try:
        deadline = time.monotonic() + 90
        while not (match := READY.search(run.output())):
            if popen.poll() is not None or time.monotonic() > deadline:
                pytest.fail("make run never became ready:\n" + run.output(), pytrace=False)
            time.sleep(0.2)
        run.status_url = match.group(1)
        port = run.status_url.rsplit(":", 1)[1].strip("/")
        run.env["REENGAGE_HTTP_PORT"] = port
        yield run
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium: skipped where absent, except under CI (.ci/run installs it)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is required under CI (apt-get install chromium)", pytrace=False)
    pytest.skip("no chromium: apt-get install chromium to run the browser tests")


def chromium_args(chromium: str, profile: Path) -> list[str]:
    """Flags for a headless run as root, with nothing phoning home."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1600",
    ]
