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


# Signals that arrived while the command's modules were loading (see `catch_early_signals`).
_early: list[int] = []


def catch_early_signals() -> None:
    """Remember SIGTERM/SIGINT from the process's first moments: importing the commands takes
    about half a second, during which the default action would kill it with 143/130 before
    it could exit 0. `release_early_signals` ends this."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: _early.append(received))


def release_early_signals() -> bool:
    """Give SIGTERM/SIGINT back their default actions (until a command installs its own
    Shutdown); True if one arrived meanwhile, and the process should exit 0 without starting."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    arrived = bool(_early)
    _early.clear()
    return arrived


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
        return self

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signals_seen += 1
        if self.signals_seen > 1:
            # The operator insists: abandon the batch; nothing was committed for it, so the
            # next run redoes it.
            raise KeyboardInterrupt
        self._requested.set()
