"""The checks behind /readyz, shared by every long-running command: each answers
`(ready, why not)` and never raises, so one broken check cannot break the endpoint."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from sqlalchemy import Engine

from worker.runtime.http import ReadinessCheck
from worker.store.engine import ping


class HasAssignment(Protocol):
    @property
    def assigned(self) -> Collection[object]: ...


def database_answers(engine: Engine) -> ReadinessCheck:
    """Ready while the database answers a trivial query."""

    def check() -> tuple[bool, str]:
        try:
            ping(engine)
        except Exception:
            # The driver's message may quote the URL, and with it a password.
            return (False, "database unreachable")
        return (True, "")

    return check


class ConsumerAssigned:
    """Ready while the group has given the consumer partitions. The HTTP server starts before
    the consumer exists (a liveness probe must answer during the start-up wait for the
    broker), so the consumer is handed over when it does."""

    def __init__(self) -> None:
        self.consumer: HasAssignment | None = None

    def __call__(self) -> tuple[bool, str]:
        ok = self.consumer is not None and bool(self.consumer.assigned)
        return (ok, "no partitions assigned")
