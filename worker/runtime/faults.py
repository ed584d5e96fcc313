"""Fault points for fault tests. Unset, as in every real deployment, each costs a dictionary
lookup.

`REENGAGE_TEST_CRASH_AT=point[:n]` SIGKILLs the process the n-th time (default 1st) it
reaches `point`. The points sit where a crash is most awkward: after the database commit and
before the offset commit (worker), after the broker acknowledged and before the outbox rows
are marked (relay), and between sending an email and recording it (mailer).

`REENGAGE_TEST_HOLD_AT=point[:n]` pauses the process the n-th time it reaches `point`, says so
on stderr, and waits there until its caller's condition holds (a shutdown was asked for), or
120 s at most.
A test can then signal a process that is certainly in the middle of a batch: a signal sent
after watching the database instead races a fast machine to the end of the stream.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable

_CRASH_VARIABLE = "REENGAGE_TEST_CRASH_AT"
_HOLD_VARIABLE = "REENGAGE_TEST_HOLD_AT"
# A hold nobody releases must not hang a test run for good.
_HOLD_LIMIT_S = 120.0
_lock = threading.Lock()
_seen: dict[tuple[str, str], int] = {}


def _reached_target(variable: str, point: str) -> bool:
    """Visits are calls: a step retried after a failure visits its point again."""
    spec = os.environ.get(variable)
    if not spec:
        return False
    target, _, count = spec.partition(":")
    if target != point:
        return False
    wanted = int(count) if count.isdecimal() else 1 if not count else 0
    if wanted < 1:
        # A test's typo: say so where the test's output shows it, rather than fail the step.
        print(f"test fault point ignored: {variable}={spec!r}", file=sys.stderr, flush=True)
        return False
    with _lock:
        reached = _seen.get((variable, point), 0) + 1
        _seen[(variable, point)] = reached
    return reached == wanted


def crash_point(point: str) -> None:
    if _reached_target(_CRASH_VARIABLE, point):
        os.kill(os.getpid(), signal.SIGKILL)


def hold_point(point: str, until: Callable[[], bool]) -> None:
    if not _reached_target(_HOLD_VARIABLE, point):
        return
    print(f"test hold: at {point}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + _HOLD_LIMIT_S
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)
    print(f"test hold: released at {point}", file=sys.stderr, flush=True)
