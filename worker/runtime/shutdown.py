"""SIGTERM/SIGINT handling: the signal only sets a flag; loops finish their batch, commit,
then close (closing first would lose the commit). A second signal stops waiting."""

from __future__ import annotations

import signal
import threading
from types import FrameType


class Interrupted(BaseException):
    """SIGTERM/SIGINT arrived while the process was still waiting to start (for its database
    or broker): nothing was consumed or sent, so there is nothing to finish. A BaseException,
    like KeyboardInterrupt, so that no `except Exception` on the way out mistakes it for a
    failure."""


# Signals that arrived before the command installed its own handlers (`catch_early_signals`).
_early: list[int] = []


def catch_early_signals() -> None:
    """Remember SIGTERM/SIGINT from the process's first moments (loading the commands takes
    about half a second, reading the settings a little more), during which the default action
    would kill it with 143/130 before it could exit 0. The command's `Shutdown.install()`, or
    `default_actions()` for a command without one, takes them over."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: _early.append(received))


def early_signal_arrived() -> bool:
    return bool(_early)


def default_actions() -> None:
    """For a command that installs no Shutdown (nothing of its work needs finishing): SIGINT
    raises KeyboardInterrupt again, SIGTERM ends the process; a signal that came earlier
    acts now, as KeyboardInterrupt (the CLI exits 0 on it)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if _early:
        _early.clear()
        raise KeyboardInterrupt


class Shutdown:
    def __init__(self) -> None:
        self._requested = threading.Event()
        self.signals_seen = 0

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def request(self) -> None:
        self._requested.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once on shutdown. True if shutdown was requested."""
        return self._requested.wait(seconds)

    def install(self) -> Shutdown:
        """Route SIGTERM and SIGINT here (main thread only, as Python requires)."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        if _early:  # it came before these handlers: the command starts asked to stop
            _early.clear()
            self.signals_seen = 1
            self._requested.set()
        return self

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signals_seen += 1
        if self.signals_seen > 1:
            # The operator insists: abandon the batch; nothing was committed for it, so the
            # next run redoes it.
            raise KeyboardInterrupt
        self._requested.set()
