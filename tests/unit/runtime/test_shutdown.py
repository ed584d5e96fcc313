"""Signals from the process's first moments are kept for the command's Shutdown."""

from __future__ import annotations

import signal

import pytest

from worker.runtime.shutdown import Shutdown, catch_early_signals

# Each test installs the handlers of a command.
pytestmark = pytest.mark.usefixtures("signal_handlers_restored")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_before_the_command_installs_its_handlers_is_not_lost(signum: int) -> None:
    catch_early_signals()
    signal.raise_signal(signum)  # while the command's modules are still importing
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


def test_without_an_early_signal_a_command_starts_normally() -> None:
    catch_early_signals()
    assert not Shutdown().install().requested
