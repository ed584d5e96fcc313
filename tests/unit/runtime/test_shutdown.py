"""Signals from the process's first moments, while the commands load, end it with exit 0."""

from __future__ import annotations

import signal

import pytest

from worker.runtime.shutdown import catch_early_signals, release_early_signals

# Each test changes the process's handlers.
pytestmark = pytest.mark.usefixtures("signal_handlers_restored")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_commands_load_is_kept_not_fatal(signum: int) -> None:
    catch_early_signals()
    signal.raise_signal(signum)  # would have killed the process (143/130)
    assert release_early_signals() is True
    assert release_early_signals() is False  # reported once


def test_without_one_the_command_starts_with_the_default_actions() -> None:
    catch_early_signals()
    assert release_early_signals() is False
    # Back to the defaults, for commands that install no handler of their own (demo).
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
