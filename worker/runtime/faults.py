"""Crash points for fault tests: `REENGAGE_TEST_CRASH_AT=point[:n]` SIGKILLs the process the
n-th time (default 1st) it reaches `point`. Unset, as in every real deployment, it costs a
dictionary lookup.

The points sit where a crash is most awkward: after the database commit and before the
offset commit (worker), after the broker acknowledged and before the outbox rows are marked
(relay), and between sending an email and recording it (mailer).
"""

from __future__ import annotations

import os
import signal
import threading

_VARIABLE = "REENGAGE_TEST_CRASH_AT"
_lock = threading.Lock()
_seen: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get(_VARIABLE)
    if not spec:
        return None
    point, _, count = spec.partition(":")
    return point, int(count or "1")


def crash_point(point: str) -> None:
    target = _target()
    if target is None or target[0] != point:
        return
    with _lock:
        _seen[point] = _seen.get(point, 0) + 1
        reached = _seen[point]
    if reached == target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
