"""Signals from the process's first moments (the commands loading, the settings read) are kept
for the command, which then exits 0 instead of being killed."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from worker import cli
from worker.commands import schemas_export
from worker.runtime.shutdown import (
    Shutdown,
    catch_early_signals,
    default_actions,
    early_signal_arrived,
)
from worker.settings import Settings

# Each test changes the process's handlers.
pytestmark = pytest.mark.usefixtures("signal_handlers_restored")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_before_the_command_installs_its_handlers_is_not_lost(signum: int) -> None:
    catch_early_signals()
    signal.raise_signal(signum)  # would have killed the process (143/130)
    assert early_signal_arrived()
    shutdown = Shutdown().install()
    assert shutdown.requested
    # It counts as the first signal: a second one abandons the batch in hand, as usual.
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signum)


def test_an_early_signal_is_handed_over_once() -> None:
    catch_early_signals()
    signal.raise_signal(signal.SIGTERM)
    assert Shutdown().install().requested
    assert not Shutdown().install().requested


def test_without_one_the_command_starts_normally() -> None:
    catch_early_signals()
    assert not early_signal_arrived()
    assert not Shutdown().install().requested


def test_a_command_without_a_shutdown_gets_the_default_actions_back() -> None:
    catch_early_signals()
    default_actions()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_and_an_early_signal_stops_it_at_once() -> None:
    catch_early_signals()
    signal.raise_signal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):  # the CLI exits 0 on it
        default_actions()
    assert not early_signal_arrived()


class _Deadline:
    """An `on_deadline` that records the exit code it was given."""

    def __init__(self) -> None:
        self.codes: list[int] = []
        self.ran = threading.Event()

    def __call__(self, code: int) -> None:
        self.codes.append(code)
        self.ran.set()


def test_a_deadline_runs_once_that_long_after_the_first_signal() -> None:
    deadline = _Deadline()
    shutdown = Shutdown(deadline_s=0.2, on_deadline=deadline).install()
    signal.raise_signal(signal.SIGTERM)
    assert shutdown.requested
    assert deadline.ran.wait(30)
    time.sleep(0.3)
    assert deadline.codes == [0]


def test_an_early_signal_starts_the_deadline_too() -> None:
    catch_early_signals()
    signal.raise_signal(signal.SIGTERM)
    deadline = _Deadline()
    Shutdown(deadline_s=0.2, on_deadline=deadline).install()
    assert deadline.ran.wait(30)


def test_without_a_signal_or_without_a_deadline_nothing_runs() -> None:
    deadline = _Deadline()
    Shutdown(deadline_s=0.2, on_deadline=deadline).install()
    assert not deadline.ran.wait(0.5)
    shutdown = Shutdown(on_deadline=deadline).install()
    signal.raise_signal(signal.SIGTERM)
    assert shutdown.requested
    assert not deadline.ran.wait(0.5)


def test_a_deadline_after_a_failure_keeps_the_exit_code_of_a_failure() -> None:
    deadline = _Deadline()
    shutdown = Shutdown(deadline_s=0.2, on_deadline=deadline).install()
    with pytest.raises(KeyboardInterrupt), shutdown.noting_failure():
        raise KeyboardInterrupt  # a second signal: no failure
    assert not shutdown.failed
    with pytest.raises(RuntimeError), shutdown.noting_failure():
        raise RuntimeError("the loop failed")
    assert shutdown.failed
    signal.raise_signal(signal.SIGTERM)
    assert deadline.ran.wait(30)
    assert deadline.codes == [1]


def test_the_deadline_ends_a_hung_process_with_exit_0_and_says_so() -> None:
    program = textwrap.dedent(
        """
        import signal, time
        from worker.logs import configure_logging
        from worker.runtime.shutdown import Shutdown
        configure_logging()
        Shutdown(deadline_s=0.5).install()
        signal.raise_signal(signal.SIGTERM)
        time.sleep(120)  # a wait that would never end in time
        raise SystemExit(3)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode == 0, result.stderr
    assert "shutdown overran its deadline" in result.stderr


def _fails_then_is_signalled_twice(_args: argparse.Namespace, _settings: Settings) -> int:
    """A command whose loop fails, and whose teardown the operator cuts short."""
    shutdown = Shutdown().install()
    try:
        with shutdown.noting_failure():
            raise RuntimeError("the loop failed")
    finally:
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)  # raises here, mid-teardown
    return 0


def _signalled_twice(_args: argparse.Namespace, _settings: Settings) -> int:
    shutdown = Shutdown().install()
    signal.raise_signal(signal.SIGTERM)
    signal.raise_signal(signal.SIGTERM)
    return 1 if shutdown.failed else 0


@pytest.mark.parametrize(
    ("command", "code", "logged"),
    [
        (_fails_then_is_signalled_twice, 1, "RuntimeError"),
        (_signalled_twice, 0, "stopped by a signal"),
    ],
)
def test_a_second_signal_during_the_teardown_keeps_the_exit_code_of_a_failure(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: Callable[[argparse.Namespace, Settings], int],
    code: int,
    logged: str,
) -> None:
    monkeypatch.setattr(schemas_export, "run", command)
    assert cli.main(["schemas", "export", "/nonexistent"]) == code
    assert logged in capsys.readouterr().err
