"""Start-up checks that turn an unreachable dependency into a configuration error (exit 2)
naming the setting, after a bounded wait: a worker started before its broker or database is
fine, one pointed at the wrong place says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, text

from worker.errors import TransientError
from worker.runtime.retry import RetryBudgetSpentError, is_transient, retry_transient
from worker.settings import ConfigurationError
from worker.store.versioning import SchemaOutdatedError, require_current_schema

T = TypeVar("T")


def connect_or_fail(connect: Callable[[], T], *, variable: str, what: str, timeout_s: float) -> T:
    """`connect()` retried while it fails transiently; then ConfigurationError for `variable`.
    The underlying error is not quoted: it may contain the URL, and with it a password."""

    def attempt() -> T:
        try:
            return connect()
        except Exception as exc:
            if is_transient(exc) or isinstance(exc, OSError):
                raise TransientError(what) from exc
            raise

    try:
        return retry_transient(attempt, budget_s=timeout_s, what=what, max_wait_s=5.0)
    except RetryBudgetSpentError:
        raise ConfigurationError(variable, f"{what}: no answer within {timeout_s:g} s") from None


def check_database(engine: Engine, timeout_s: float) -> None:
    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    connect_or_fail(
        ping,
        variable="REENGAGE_DATABASE_URL",
        what="cannot reach the database",
        timeout_s=timeout_s,
    )
    try:
        require_current_schema(engine)
    except SchemaOutdatedError as exc:
        raise ConfigurationError("REENGAGE_DATABASE_URL", str(exc)) from None
