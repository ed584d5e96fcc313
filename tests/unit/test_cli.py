import os
import subprocess
import sys

import pytest

COMMANDS = [
    "worker",
    "relay",
    "mailer",
    "migrate",
    "preview",
    "dlq",
    "schemas",
    "import-candidates",
]


def _reengage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_every_command() -> None:
    result = _reengage("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", [["worker"], ["dlq", "replay"], ["schemas", "export"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = _reengage(*command, "--help")
    assert result.returncode == 0
    assert "usage: reengage" in result.stdout


def test_bad_database_url_exits_2_with_one_line_naming_the_variable() -> None:
    result = _reengage("worker", REENGAGE_DATABASE_URL="nonsense")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "REENGAGE_DATABASE_URL" in lines[0]
    assert "nonsense" not in lines[0]


def test_secret_in_a_bad_url_is_not_echoed() -> None:
    result = _reengage("worker", REENGAGE_DATABASE_URL="mysql://admin:hunter2@db/x")
    assert result.returncode == 2
    assert "hunter2" not in result.stderr + result.stdout
