"""Start-up checks that turn an unreachable dependency into a configuration error (exit 2)
naming the setting, after a bounded wait: a worker started before its broker or database is
fine, one pointed at the wrong place says so.

The wait gives way to SIGTERM/SIGINT: nothing has been consumed yet, so a signal ends it at
once with `Interrupted` (exit 0) instead of after the whole budget.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError

from worker.errors import TransientError
from worker.logs import get_logger
from worker.runtime.retry import RetryBudgetSpentError, is_transient, retry_transient
from worker.runtime.shutdown import Interrupted, Shutdown
from worker.settings import ConfigurationError
from worker.store.durability import commit_durability_gaps
from worker.store.engine import ping
from worker.store.versioning import SchemaOutdatedError, require_current_schema

log = get_logger("reengage.startup")

T = TypeVar("T")

# A wait for a connect attempt ends on either of two things, its answer or a shutdown request:
# it waits for the answer and looks at the shutdown flag this often.
_SHUTDOWN_POLL_S = 0.1
# An attempt taking longer than this is worth a line in the log: start-up is waiting.
_SLOW_ATTEMPT_S = 1.0


BROKER = "REENGAGE_KAFKA_BOOTSTRAP_SERVERS"
DATABASE = "REENGAGE_DATABASE_URL"


def connect_to_broker(
    connect: Callable[[], T],
    *,
    timeout_s: float,
    shutdown: Shutdown | None,
    release: Callable[[], None] = lambda: None,
) -> T:
    """`connect_or_fail` for a Kafka client; `release()` closes what was opened before it (a
    producer made first) when this one cannot be made or the wait is interrupted."""
    try:
        return connect_or_fail(
            connect,
            variable=BROKER,
            what="cannot reach Kafka",
            timeout_s=timeout_s,
            shutdown=shutdown,
        )
    except BaseException:
        release()
        raise


def connect_or_fail(
    connect: Callable[[], T],
    *,
    variable: str,
    what: str,
    timeout_s: float,
    shutdown: Shutdown | None,
) -> T:
    """`connect()` retried while it fails transiently; then ConfigurationError for `variable`.
    The underlying error is not quoted: it may contain the URL, and with it a password.

    With `shutdown`, a signal ends the wait with `Interrupted`, also in the middle of an
    attempt (a Kafka bootstrap or a database connect can block for many seconds). Without it
    (commands that install no handler) the default signal behaviour applies. Either way the
    wait ends when `timeout_s` has passed, in the middle of an attempt too.
    """

    # Every attempt is cut off at the budget's end: a Kafka bootstrap or a connect that
    # hangs (a black-holed address) would otherwise overrun it by a whole attempt.
    deadline = time.monotonic() + timeout_s

    def attempt() -> T:
        if shutdown is not None and shutdown.requested:
            raise Interrupted
        try:
            return _until(connect, shutdown, deadline, variable)
        except Exception as exc:
            if is_transient(exc) or isinstance(exc, OSError):
                raise TransientError(what) from exc
            raise

    def idle(seconds: float) -> None:
        seconds = min(seconds, max(deadline - time.monotonic(), 0.0))
        if shutdown is None:
            time.sleep(seconds)
        else:
            shutdown.wait(seconds)

    try:
        return retry_transient(attempt, budget_s=timeout_s, idle=idle, what=what, max_wait_s=5.0)
    except RetryBudgetSpentError:
        raise ConfigurationError(variable, f"{what}: no answer within {timeout_s:g} s") from None


def _until(call: Callable[[], T], shutdown: Shutdown | None, deadline: float, variable: str) -> T:
    """`call()` on a helper thread, given up on at `deadline` (TimeoutError) or when shutdown
    is requested (Interrupted). An abandoned attempt runs on in a daemon thread, which ends
    with the process."""
    if time.monotonic() >= deadline:
        raise TimeoutError("the start-up budget is spent")
    outcome: Future[T] = Future()
    slow_at = time.monotonic() + _SLOW_ATTEMPT_S

    def run() -> None:
        try:
            outcome.set_result(call())
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome.set_exception(exc)

    threading.Thread(target=run, name="reengage-startup", daemon=True).start()
    while not wait([outcome], timeout=_SHUTDOWN_POLL_S).done:
        if shutdown is not None and shutdown.requested:
            raise Interrupted
        now = time.monotonic()
        if now >= deadline:
            raise TimeoutError("the start-up budget is spent")
        if now >= slow_at:
            log.info("start-up waiting for an answer", setting=variable)
            slow_at = float("inf")
    return outcome.result()


# What the server or libpq says when no wait will help: the URL itself is wrong. Matched in
# English only (psycopg gives no SQLSTATE for a failed connection): a server (`lc_messages`)
# or a libpq answering in another language is waited on like an unreachable server. The
# line we print quotes none of it: the driver's words quote the URL's values.
_REFUSALS = tuple(
    (re.compile(words), why)
    for words, why in (
        # libpq's refusal of an option's value (`?sslmode=bogus`), before any connection
        (
            r"^connection is bad: invalid ",
            "the database driver refused the URL's connection options",
        ),
        (
            r"FATAL:\s+password authentication failed",
            "the database refused the URL's user name or password",
        ),
        (
            r"fe_sendauth: no password supplied",
            "the database asks for a password and the URL gives none",
        ),
        (
            r"FATAL:\s+no pg_hba\.conf entry",
            "the database server does not admit this user from this host",
        ),
        (
            r'FATAL:\s+(?:database|role) ".*" does not exist',
            "the database or user named in the URL does not exist",
        ),
        # SQLite: the file's folder does not exist, or this user may not create it there
        (
            r"^unable to open database file$",
            "the SQLite file cannot be opened or created (does its folder exist, and may "
            "this user write there?)",
        ),
    )
)


class _RefusedError(Exception):
    """Not transient: no wait makes the server take the URL."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _ping(engine: Engine) -> None:
    try:
        ping(engine)
    except OperationalError as exc:
        said = str(exc.orig)
        for words, why in _REFUSALS:
            if words.search(said):
                raise _RefusedError(why) from None
        raise


def wait_for_database(engine: Engine, timeout_s: float, shutdown: Shutdown | None) -> None:
    """Until the database answers (exit 2 naming the setting after `timeout_s`, or at once
    when the driver refuses the URL's options, e.g. `?connect_timeout=abc`)."""
    try:
        connect_or_fail(
            lambda: _ping(engine),
            variable=DATABASE,
            what="cannot reach the database",
            timeout_s=timeout_s,
            shutdown=shutdown,
        )
    except ProgrammingError:
        # The driver's words quote the option's value; the URL may hold a password.
        raise ConfigurationError(
            DATABASE, "the database driver refused the URL's connection options"
        ) from None
    except _RefusedError as refused:
        raise ConfigurationError(DATABASE, refused.why) from None
    except DatabaseError as exc:
        code = getattr(exc.orig, "sqlite_errorcode", None)
        # The low byte is the primary code (SQLITE_CORRUPT_INDEX is SQLITE_CORRUPT | 3 << 8).
        if code is not None and code & 0xFF in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            # Pointed at some other file, or a damaged one: no wait will change that.
            raise ConfigurationError(
                DATABASE, "the SQLite file is not a database, or is damaged"
            ) from None
        raise


def check_database(engine: Engine, timeout_s: float, shutdown: Shutdown | None) -> None:
    """The database answers and holds the current schema."""
    wait_for_database(engine, timeout_s, shutdown)
    try:
        require_current_schema(engine)
    except SchemaOutdatedError as exc:
        raise ConfigurationError(DATABASE, str(exc)) from None
    warn_if_commits_may_be_lost(engine)


def warn_if_commits_may_be_lost(engine: Engine) -> None:
    """A warning, not a refusal: a test or demo server may run so on purpose."""
    with engine.connect() as connection:
        gaps = commit_durability_gaps(connection)
    if gaps:
        log.warning(
            "database commits may be lost after they return (a crash of the server or its "
            "machine); events acted on could then be lost and emails sent twice",
            settings=gaps,
        )
