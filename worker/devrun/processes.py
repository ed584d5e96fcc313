"""The `reengage` processes `make run` supervises: started in their own sessions (a Ctrl-C in
the terminal reaches only the supervisor, which then stops them in order, once each: a second
signal would make them abandon their batch), and tied to the supervisor's life on Linux."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from worker.runtime.children import die_with_parent

STOP_GRACE_S = 15.0


@dataclass
class Child:
    name: str
    args: Sequence[str]
    env: Mapping[str, str]
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> Child:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "worker.entry", *self.args],
            env=dict(self.env),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            # Only prctl and getppid run in the child before exec, both resolved beforehand.
            preexec_fn=die_with_parent(),  # noqa: PLW1509
        )
        return self

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()


class Supervisor:
    """Starts children in order, stops them in reverse order: SIGTERM once, then wait."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def start(self, child: Child) -> Child:
        self.children.append(child.start())
        return child

    def exited(self) -> Child | None:
        """A child that has exited (none should, until asked to)."""
        return next((c for c in self.children if c.exit_code() is not None), None)

    def stop(self, grace_s: float = STOP_GRACE_S) -> dict[str, int]:
        """Stop every child (all at once: each finishes its batch in parallel); returns their
        exit codes (-9 for one killed after `grace_s`)."""
        running = [c.popen for c in self.children if c.popen is not None]
        for popen in running:
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while any(p.poll() is None for p in running) and time.monotonic() < deadline:
            time.sleep(0.05)
        codes: dict[str, int] = {}
        for child in self.children:
            if child.popen is None:
                continue
            if child.popen.poll() is None:
                child.popen.kill()
            codes[child.name] = child.popen.wait()
        return codes
