"""The checks behind /readyz, shared by every long-running command: each answers
`(ready, why not)` and never raises, so one broken check cannot break the endpoint."""

from __future__ import annotations

from sqlalchemy import Engine

from worker.runtime.http import ReadinessCheck
from worker.store.engine import ping


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
