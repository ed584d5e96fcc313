"""SIGTERM/SIGINT handling: the signal only sets a flag; loops finish their batch, commit,
then close (closing first would lose the commit). A second signal stops waiting.

A long-running command also gets a deadline: OPERATIONS.md promises an exit within 10 s of
the signal. Every wait on the way out is bounded, but they are many (a batch's commit, the
consumer's leave, the producer's close) and some sit inside the Kafka client, where one
unbounded wait already slipped through once (a committed-offset lookup). Past the deadline
the process ends at once, as a kill would: every step is safe against a kill (the fault tests
prove it), so what was not committed is redone by the next run.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

# Seconds from the first signal to the forced exit: under the 10 s promised, with room for
# the interpreter to go.
EXIT_DEADLINE_S = 9.0


class Interrupted(BaseException):
    """SIGTERM/SIGINT arrived while the process was still waiting to start (for its database
    or broker): nothing was consumed or sent, so there is nothing to finish. A BaseException,
    like KeyboardInterrupt, so that no `except Exception` on the way out mistakes it for a
    failure."""


class AbandonedAfterFailure(KeyboardInterrupt):
    """A second signal during the teardown of a command that had already failed. It replaces
    the failure's exception on its way out, so it carries the failure (its `__context__`)
    and the exit code stays 1."""


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


def exit_now(code: int) -> None:
    """What the deadline does: say so, then end the process without unwinding (an unwinding
    thread could be the one that hangs)."""
    from worker.logs import get_logger  # light, but not needed before a signal

    get_logger("reengage.shutdown").error(
        "shutdown overran its deadline: exiting without finishing; the next run redoes "
        "what was not committed",
        deadline_s=EXIT_DEADLINE_S,
        exit_code=code,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(code)


class Shutdown:
    """`deadline_s`: after the first signal, `on_deadline` runs this many seconds later if
    the process is still there, with exit code 0, or 1 once `failed` is set (None: no
    deadline, for commands whose exit code says whether their work is complete, such as
    `migrate`)."""

    def __init__(
        self,
        *,
        deadline_s: float | None = None,
        on_deadline: Callable[[int], None] = exit_now,
    ) -> None:
        self._requested = threading.Event()
        self.signals_seen = 0
        self._deadline_s = deadline_s
        self._on_deadline = on_deadline
        # Set when the command has failed: a deadline during the teardown after a failure
        # must not turn its exit 1 into 0.
        self.failed = False

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
            self._start_deadline()
        return self

    @contextmanager
    def noting_failure(self) -> Iterator[None]:
        """Around a command's main loop: an error escaping it sets `failed` before the
        teardown that follows runs (a second signal's KeyboardInterrupt is no failure)."""
        try:
            yield
        except (KeyboardInterrupt, Interrupted):
            raise
        except BaseException:
            self.failed = True
            raise

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signals_seen += 1
        if self.signals_seen > 1:
            # The operator insists: abandon the batch; nothing was committed for it, so the
            # next run redoes it.
            raise AbandonedAfterFailure if self.failed else KeyboardInterrupt
        self._requested.set()
        self._start_deadline()

    def _start_deadline(self) -> None:
        if self._deadline_s is None:
            return
        timer = threading.Timer(self._deadline_s, lambda: self._on_deadline(int(self.failed)))
        timer.daemon = True  # a process that ends in time does not wait for it
        timer.name = "reengage-shutdown-deadline"
        timer.start()
