"""Start-up failures are configuration errors: exit 2, one line naming the setting. A signal
while start-up still waits for the database or the broker ends it at once with exit 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text

from dev.local_postgres import LocalPostgres
from tests.integration.worker.harness import Process, http_port_of, metric, running, wait_for
from worker.store.engine import create_store_engine
from worker.store.schema import OutboxRow
from worker.store.versioning import migrate

# Far longer than the test may take: were the wait deaf to signals, the process would still
# be waiting when the test gives up, instead of exiting 2 at the end of its budget.
STARTUP_TIMEOUT_NEVER = "3600"


def _reengage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "worker.entry", *args],
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


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (("worker",), "connect_timeout=abc"),
        (("migrate",), "connect_timeout=abc"),
        (("preview", "--tenant", "t", "--job", "j"), "connect_timeout=abc"),
        # refused by libpq rather than psycopg, with another error class
        (("worker",), "sslmode=abc"),
    ],
)
def test_a_url_option_the_driver_refuses_is_a_configuration_error(
    command: tuple[str, ...], option: str
) -> None:
    url = f"postgresql+psycopg://nobody:hunter2@127.0.0.1:{_closed_port()}/db?{option}"
    result = _reengage(*command, REENGAGE_DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "reengage: configuration error: REENGAGE_DATABASE_URL: "
        "the database driver refused the URL's connection options"
    )
    assert "hunter2" not in result.stderr + result.stdout
    assert "abc" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", [["worker"], ["migrate"]])
def test_a_sqlite_file_in_no_folder_is_a_configuration_error_at_once(
    tmp_path: Path, command: list[str]
) -> None:
    """Before, the whole start-up budget was waited out and then called unreachable."""
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'reengage.db'}"
    result = _reengage(
        *command, REENGAGE_DATABASE_URL=url, REENGAGE_STARTUP_TIMEOUT_SECONDS=STARTUP_TIMEOUT_NEVER
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "reengage: configuration error: REENGAGE_DATABASE_URL: the SQLite file cannot be "
        "opened or created (does its folder exist, and may this user write there?)"
    )


def test_a_url_the_server_refuses_is_a_configuration_error_at_once(
    own_postgres: LocalPostgres,
) -> None:
    """Wrong password, no password, a database or user that does not exist: no wait helps,
    so start-up says so at once (the budget here is an hour) instead of "cannot reach"."""
    server = own_postgres
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE ROLE guarded LOGIN PASSWORD 'right'"))
    admin.dispose()
    hba = server.data_dir / "pg_hba.conf"
    hba.write_text("host all guarded 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    server.halt()  # a restart, not a reload: the rule is surely in force when it returns
    server.resume()
    base = f"postgresql+psycopg://{{}}@127.0.0.1:{server.port}/{{}}"
    for user, database, why in [
        ("guarded:hunter2", "postgres", "the database refused the URL's user name or password"),
        ("guarded", "postgres", "the database asks for a password and the URL gives none"),
        ("nobody:hunter2", "postgres", "the database or user named in the URL does not exist"),
        ("guarded:right", "nowhere", "the database or user named in the URL does not exist"),
    ]:
        result = _reengage(
            "migrate",
            REENGAGE_DATABASE_URL=base.format(user, database),
            REENGAGE_STARTUP_TIMEOUT_SECONDS=STARTUP_TIMEOUT_NEVER,
        )
        assert result.returncode == 2, result.stderr
        line = result.stderr.strip().splitlines()[-1]
        assert line == f"reengage: configuration error: REENGAGE_DATABASE_URL: {why}"
        assert "hunter2" not in result.stderr + result.stdout


def _clean_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    return {
        **clean,
        "REENGAGE_STARTUP_TIMEOUT_SECONDS": STARTUP_TIMEOUT_NEVER,
        "REENGAGE_HTTP_PORT": "0",
        "REENGAGE_MAIL_FROM": "Talent <talent@example.com>",
        **env,
    }


def _wait_for_the_broker_wait(process: Process) -> None:
    wait_for(
        lambda: _waiting(
            process, "start-up waiting for an answer", setting="REENGAGE_KAFKA_BOOTSTRAP_SERVERS"
        ),
        "the wait for the broker",
    )


def _waiting(process: Process, event: str, **fields: str) -> bool:
    """The process logged `event` with `fields`: start-up is waiting (with its signal handler
    in place)."""
    for line in process.output().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == event and all(record.get(k) == v for k, v in fields.items()):
            return True
    return False


@pytest.mark.parametrize(
    ("command", "signum"),
    [
        ("worker", signal.SIGTERM),
        ("worker", signal.SIGINT),
        ("relay", signal.SIGTERM),
        ("mailer", signal.SIGINT),
        ("dlq replay --topic ats.candidates.dlq", signal.SIGTERM),
    ],
)
def test_a_signal_while_waiting_for_the_broker_exits_0(
    sqlite_url: str, tmp_path: Path, command: str, signum: signal.Signals
) -> None:
    migrate(sqlite_url)
    env = _clean_env(
        REENGAGE_DATABASE_URL=sqlite_url,
        REENGAGE_KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{_closed_port()}",
    )
    with running(command.split(), env, tmp_path / "process.log") as process:
        _wait_for_the_broker_wait(process)
        process.signal(signum)
        assert process.wait(timeout=60) == 0, process.output()
        assert "configuration error" not in process.output()


@pytest.mark.parametrize(
    ("command", "signum"),
    [
        ("worker", signal.SIGTERM),
        ("migrate", signal.SIGTERM),
        ("migrate", signal.SIGINT),
        ("preview --tenant acme --job j-1", signal.SIGTERM),
        # demo installs no Shutdown: the default actions, and SIGTERM made a Ctrl-C
        ("demo", signal.SIGINT),
        ("demo", signal.SIGTERM),
    ],
)
def test_a_signal_while_waiting_for_the_database_exits_0(
    tmp_path: Path, command: str, signum: signal.Signals
) -> None:
    url = f"postgresql+psycopg://nobody:hunter2@127.0.0.1:{_closed_port()}/reengage"
    env = _clean_env(REENGAGE_DATABASE_URL=url)
    with running(command.split(), env, tmp_path / "process.log") as process:
        wait_for(
            lambda: _waiting(
                process, "transient failure, retrying", what="cannot reach the database"
            ),
            "the wait for the database",
        )
        process.signal(signum)
        assert process.wait(timeout=60) == 0, process.output()
        assert "hunter2" not in process.output()


_CANCELLED_AT_ZERO = 'reengage_outreach_cancelled_total{reason="erased"} 0.0'
_MAIL_AT_ZERO = 'reengage_mail_total{outcome="claimed_elsewhere"} 0.0'


@pytest.mark.parametrize(
    ("command", "backlog_exposed", "zero_series"),
    [
        (["worker"], True, _CANCELLED_AT_ZERO),
        (["relay"], True, None),
        (["mailer"], False, _MAIL_AT_ZERO),
        (["worker", "--no-relay"], False, _CANCELLED_AT_ZERO),
    ],
)
def test_while_waiting_for_the_broker_the_http_endpoints_answer(
    sqlite_url: str,
    tmp_path: Path,
    command: list[str],
    backlog_exposed: bool,
    zero_series: str | None,
) -> None:
    """A liveness probe must not fail through the start-up wait, and an outbox backlog
    piling up behind an unreachable broker must show on the gauges, not read 0, where the
    process relays; where it does not, the gauges are not served at all. Labelled counters
    with known values are served at 0 from the start, not only after their first event."""
    migrate(sqlite_url)
    _add_unpublished_outbox_rows(sqlite_url, 3, created=datetime.now(UTC) - timedelta(hours=1))
    env = _clean_env(
        REENGAGE_DATABASE_URL=sqlite_url,
        REENGAGE_KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{_closed_port()}",
    )
    with running(command, env, tmp_path / "process.log") as process:
        _wait_for_the_broker_wait(process)
        port = http_port_of(process)
        assert _get(port, "/healthz")[0] == 200
        status, exposition = _get(port, "/metrics")
        assert status == 200
        if zero_series is not None:
            assert zero_series in exposition.splitlines()
        if backlog_exposed:
            wait_for(lambda: metric(port, "reengage_outbox_pending") == 3, "the backlog gauge")
            assert metric(port, "reengage_outbox_oldest_seconds") >= 3600
        else:  # not ready without partitions, and no outbox gauges
            assert _get(port, "/readyz") == (503, "no partitions assigned\n")
            assert "reengage_outbox_pending" not in _get(port, "/metrics")[1]
        process.signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, process.output()


def _add_unpublished_outbox_rows(url: str, count: int, created: datetime) -> None:
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(OutboxRow),
                [
                    {"topic": "t", "key": None, "headers": {}, "payload": "{}"}
                    | {"created_at": created}
                    for _ in range(count)
                ],
            )
    finally:
        engine.dispose()


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return (response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return (error.code, error.read().decode())
