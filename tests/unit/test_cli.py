import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from worker.cli import _build_parser, _exit_code_of
from worker.runtime.retry import RetryBudgetSpentError
from worker.settings import Settings
from worker.settings_help import settings_epilog

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
        [sys.executable, "-m", "worker.entry", *args],
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


def test_a_bootstrap_server_without_a_port_number_exits_2_with_one_line() -> None:
    result = _reengage("worker", REENGAGE_KAFKA_BOOTSTRAP_SERVERS="localhost:notaport")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("reengage: configuration error: REENGAGE_KAFKA_BOOTSTRAP_SERVERS: ")


@pytest.mark.parametrize("command", [[], ["worker"], ["relay"], ["mailer"]])
def test_help_lists_every_setting_with_its_default(command: list[str]) -> None:
    result = _reengage(*command, "--help")
    assert result.returncode == 0
    listed = {
        line.split()[0]: line
        for line in result.stdout.splitlines()
        if line.startswith("  REENGAGE_")
    }
    assert set(listed) == {f"REENGAGE_{name.upper()}" for name in Settings.model_fields}
    assert listed["REENGAGE_KAFKA_BOOTSTRAP_SERVERS"].split()[1] == "localhost:9092"
    assert listed["REENGAGE_HTTP_PORT"].split()[1] == "8000"
    assert listed["REENGAGE_SMTP_STARTTLS"].split()[1] == "false"
    assert listed["REENGAGE_KAFKA_SECURITY_PROTOCOL"].split()[1:4] == ["PLAINTEXT", "(one", "of"]


def test_help_shows_no_secret_neither_a_default_nor_a_value_from_the_environment() -> None:
    result = _reengage(
        "--help",
        REENGAGE_SMTP_PASSWORD="hunter2",
        REENGAGE_KAFKA_SASL_PASSWORD="hunter3",
        REENGAGE_DATABASE_URL="postgresql+psycopg://u:hunter4@db/reengage",
    )
    assert result.returncode == 0
    for secret in ("hunter2", "hunter3", "hunter4"):
        assert secret not in result.stdout
    # The default, which holds no password, and not the value set.
    (database,) = [line for line in result.stdout.splitlines() if "REENGAGE_DATABASE_URL" in line]
    assert database.split()[1] == "sqlite:///reengage.db"


def _commands(parser: argparse.ArgumentParser, path: str = "reengage") -> dict[str, str | None]:
    """Every command and subcommand's description, by its full name."""
    found: dict[str, str | None] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"{path} {name}"] = sub.description
                found.update(_commands(sub, f"{path} {name}"))
    return found


def test_every_command_has_a_description() -> None:
    described = _commands(_build_parser())
    assert {"reengage relay", "reengage mailer", "reengage migrate", "reengage dlq replay"} <= set(
        described
    )
    assert [name for name, text in described.items() if not text] == []


@pytest.mark.parametrize("command", [["relay"], ["mailer"], ["migrate"]])
def test_a_command_help_shows_its_description(command: list[str]) -> None:
    result = _reengage(*command, "--help")
    assert result.returncode == 0
    usage, description = result.stdout.split("\n\n")[:2]
    assert usage.startswith("usage: reengage")
    assert description.strip() and not description.startswith("options:")


def test_import_messages_stay_on_one_line_whatever_the_width(tmp_path: Path) -> None:
    """stderr is not a terminal here, where rich would wrap at 80 columns."""
    missing = tmp_path / "a-file-name-long-enough-to-push-the-message-past-eighty-columns.csv"
    result = _reengage("import-candidates", str(missing), "--tenant", "acme", COLUMNS="80")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert len(line) > 80 and line.endswith("No such file or directory")


def test_import_help_states_when_ids_repeat_and_what_an_interruption_returns() -> None:
    result = _reengage("import-candidates", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "only when every row has updated_at or the same --updated-at is given" in text
    assert "or SIGTERM or SIGINT stopped it" in text
    assert "'reengage: interrupted' on standard error" in text


@pytest.mark.parametrize(
    "command",
    [["preview", "--tenant", "t", "--job", "j", "--at"], ["demo", "--at"]],
    ids=["preview", "demo"],
)
@pytest.mark.parametrize(
    "value", ["9999999999", "2026-01-12T09:00:00", "2026-01-12", "2026-01-12T09:00:00Z\n"]
)
def test_a_time_option_takes_only_what_an_event_timestamp_may_be(
    command: list[str], value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        _build_parser().parse_args([*command, value])
    assert exited.value.code == 2


def test_a_time_option_keeps_the_given_offset() -> None:
    args = _build_parser().parse_args(["demo", "--at", "2026-01-12T10:00:00.5+01:00"])
    assert args.at.isoformat() == "2026-01-12T10:00:00.500000+01:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-01T10:00:00Z", "2025-03-01T10:00:00+00:00"),
        ("2025-03-01 10:00:00+01:00", "2025-03-01T10:00:00+01:00"),
        ("2025-03-01", "2025-03-01T00:00:00+00:00"),
    ],
)
def test_import_updated_at_takes_what_the_csv_cells_take(value: str, expected: str) -> None:
    args = _build_parser().parse_args(
        ["import-candidates", "x.csv", "--tenant", "t", "--updated-at", value]
    )
    assert args.updated_at.isoformat() == expected


@pytest.mark.parametrize("value", ["2025-03-01 10:00:00", "1740823200"])
def test_import_updated_at_refuses_a_time_without_an_offset(value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        _build_parser().parse_args(
            ["import-candidates", "x.csv", "--tenant", "t", "--updated-at", value]
        )
    assert exited.value.code == 2


def test_credentials_the_security_protocol_would_not_send_are_warned_of(tmp_path: Path) -> None:
    result = _reengage(
        "schemas",
        "export",
        str(tmp_path),
        REENGAGE_KAFKA_SASL_USERNAME="svc",
        REENGAGE_KAFKA_SASL_PASSWORD="hunter2",
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "not used with this" in line]
    assert len(warnings) == 2
    assert "REENGAGE_KAFKA_SASL_PASSWORD" in warnings[1] and "PLAINTEXT" in warnings[1]
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize("source", ["", "   "])
def test_a_blank_import_source_exits_2_with_one_line(tmp_path: Path, source: str) -> None:
    export = tmp_path / "export.csv"
    export.write_text("candidate_id\nC-1\n", encoding="utf-8")
    result = _reengage("import-candidates", str(export), "--tenant", "acme", "--source", source)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "reengage: --source must be 1-1024 characters, not blank"
    ]


def test_schemas_export_onto_a_file_exits_2_with_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("", encoding="utf-8")
    result = _reengage("schemas", "export", str(taken))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"reengage: cannot write to {taken}: File exists"]


def test_a_stop_the_code_decided_on_is_one_line_with_its_reason_not_a_traceback() -> None:
    def gives_up(_args: argparse.Namespace, _settings: Settings) -> int:
        raise RetryBudgetSpentError("apply batch: still failing after 300 s (OperationalError)")

    def breaks(_args: argparse.Namespace, _settings: Settings) -> int:
        raise RuntimeError("a bug")

    with capture_logs() as stopped:
        code = _exit_code_of(argparse.Namespace(run=gives_up, command="worker"), Settings())
    assert code == 1
    assert [(e["event"], e["error_class"], e["reason"], "exc_info" in e) for e in stopped] == [
        (
            "stopped",
            "RetryBudgetSpentError",
            "apply batch: still failing after 300 s (OperationalError)",
            False,
        )
    ]
    with capture_logs() as unexpected:
        assert _exit_code_of(argparse.Namespace(run=breaks, command="worker"), Settings()) == 1
    assert [(e["event"], e.get("exc_info")) for e in unexpected] == [("unexpected error", True)]


@pytest.mark.parametrize(
    ("command", "reads", "not_read"),
    [
        (["migrate"], "REENGAGE_DATABASE_URL", "REENGAGE_KAFKA_BOOTSTRAP_SERVERS"),
        (["preview"], "REENGAGE_COOLDOWN_DAYS", "REENGAGE_SMTP_HOST"),
        (["dlq", "replay"], "REENGAGE_CONSUMER_GROUP", "REENGAGE_DATABASE_URL"),
        (["import-candidates"], "REENGAGE_TOPIC_CANDIDATES", "REENGAGE_DATABASE_URL"),
    ],
)
def test_a_one_off_commands_help_lists_the_settings_it_reads(
    command: list[str], reads: str, not_read: str
) -> None:
    result = _reengage(*command, "--help")
    assert result.returncode == 0
    listed = {
        line.split()[0] for line in result.stdout.splitlines() if line.startswith("  REENGAGE_")
    }
    assert reads in listed and "REENGAGE_LOG_LEVEL" in listed
    assert not_read not in listed
    assert "settings it reads" in result.stdout


def test_a_settings_list_naming_no_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="not settings"):
        settings_epilog(["database_uri"])
