"""The checks behind /readyz, shared by every long-running command: each answers
`(ready, why not)` and never raises, so one broken check cannot break the endpoint."""

from __future__ import annotations

from sqlalchemy import Engine, text

from worker.runtime.http import ReadinessCheck


def database_answers(engine: Engine) -> ReadinessCheck:
    """Ready while the database answers a trivial query."""

    def check() -> tuple[bool, str]:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            # The driver's message may quote the URL, and with it a password.
            return (False, "database unreachable")
        return (True, "")

    return check
