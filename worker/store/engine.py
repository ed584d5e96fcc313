"""Engines for the two supported databases, configured for the worker's access pattern.

SQLite (the embedded default): WAL so readers never block the writer, foreign keys on, a busy
timeout so concurrent processes wait instead of failing, and `BEGIN IMMEDIATE` for every
transaction that may write. A deferred transaction that reads and then writes can fail with
SQLITE_BUSY the moment another process committed in between (in WAL mode the busy timeout does
not apply to that upgrade); taking the write lock up front makes writers queue instead, which
is also what makes the matcher's claims atomic on SQLite.

PostgreSQL (production): psycopg 3, READ COMMITTED (the matcher takes row locks where it must),
and custom plans only (see `_plan_per_execution`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.exc import DBAPIError

from worker.errors import TransientError

_T = TypeVar("_T")

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Execution option for a connection that only reads: on SQLite it begins a deferred
# transaction, which does not queue behind (or block) the writer.
READ_ONLY = "reengage_read_only"
# Execution option (in_transaction's `lock_wait_ms` sets it): how long a transaction waits for
# another's lock, for housekeeping that can wait its turn but must not hold up a shutdown.
LOCK_WAIT_MS = "reengage_lock_wait_ms"

# PostgreSQL serialization failure, deadlock, and `lock_timeout` run out (set by a transaction
# told to wait only so long, see in_transaction): the transaction was rolled back and may
# simply be run again.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# The server, not the statement: it accepts only reads (25006: a primary demoted to standby by
# a failover, or `default_transaction_read_only`), or it is shutting down or recovering (57P01
# to 57P05). Taken as a lost connection, so that the pool opens new ones (to the new primary
# when the URL lists several hosts with `target_session_attrs=read-write`) and the callers
# retry in place. Left to the driver's exception classes, the read-only one was a "bad event"
# that dead-lettered every event until the server changed.
_SERVER_STATE_SQLSTATES = frozenset({"25006", "57P01", "57P02", "57P03", "57P04", "57P05"})
# Classes that refuse the worker's statements whatever the event: 42 a privilege revoked or a
# table or column missing (a schema not migrated, or altered by hand), 28 authorization, 3D
# and 3F a database or schema that is not there. Statements bind every value as a parameter,
# so no event's data can cause these.
_REFUSES_EVERY_STATEMENT_CLASSES = frozenset({"42", "28", "3D", "3F"})


def normalise_url(url: str | URL) -> URL:
    """postgresql:// means psycopg 3 here (SQLAlchemy would pick psycopg2 for it)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_store_engine(url: str | URL, **options: Any) -> Engine:
    """An engine for the store. Extra keyword arguments go to `sqlalchemy.create_engine`."""
    parsed = normalise_url(url)
    # Statement parameters are candidates' personal data: keep them out of exception texts
    # (which end up in logs).
    options.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **options)
    options.setdefault("pool_pre_ping", True)
    engine = create_engine(parsed, **options)
    event.listen(engine, "connect", _plan_per_execution)
    event.listen(engine, "handle_error", _server_state_is_a_disconnect)
    return engine


def _server_state_is_a_disconnect(context: ExceptionContext) -> None:
    if sqlstate_of(context.original_exception) in _SERVER_STATE_SQLSTATES:
        context.is_disconnect = True


def _plan_per_execution(dbapi_connection: Any, _record: Any) -> None:
    """Plan every matching query for its actual values. psycopg prepares a statement after a
    few executions, and PostgreSQL may then switch to a generic plan that cannot know how
    rare a job's credentials are; the matcher's plan choice depends on exactly that."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.commit()


def _sqlite_engine(url: URL, **options: Any) -> Engine:
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own implicit
        # BEGIN would be DEFERRED and placed after the first SELECT).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: every commit reaches the disk before it returns. The worker commits Kafka
            # offsets, and the mailer hands an email over, on the strength of a commit; with
            # NORMAL a power cut or OS crash may roll back the last commits after that, and
            # their events would be lost or their emails sent again.
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # BEGIN IMMEDIATE is where SQLite waits for the writer lock, so the wait is set
        # before it, on this pooled connection, and set back by the next transaction to ask.
        busy_ms = int(options.get(LOCK_WAIT_MS, SQLITE_BUSY_TIMEOUT_MS))
        info = connection.connection.info
        if info.get("busy_timeout_ms", SQLITE_BUSY_TIMEOUT_MS) != busy_ms:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {busy_ms}")
            info["busy_timeout_ms"] = busy_ms
        connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")

    return engine


def is_retryable(error: BaseException) -> bool:
    """True for a deadlock, a serialization failure or an exhausted SQLite busy timeout: run the
    whole transaction again.

    Deadlocks are possible by design (a batch locks candidate and job rows in the order its
    events arrive); PostgreSQL detects them and aborts one transaction, which this names.
    """
    if not isinstance(error, DBAPIError):
        return False
    if isinstance(error.orig, sqlite3.OperationalError):
        # The busy timeout ran out: another process held the write lock that long.
        return "locked" in str(error.orig) or "busy" in str(error.orig)
    return sqlstate_of(error) in _RETRYABLE_SQLSTATES


def refusal_of_every_statement(error: BaseException) -> str | None:
    """The SQLSTATE when PostgreSQL refuses the statements themselves (privileges, a missing
    table), which no event's data causes: dead-lettering would drain every event alike."""
    sqlstate = sqlstate_of(error)
    if sqlstate is not None and sqlstate[:2] in _REFUSES_EVERY_STATEMENT_CLASSES:
        return sqlstate
    return None


def sqlstate_of(error: BaseException | None) -> str | None:
    """PostgreSQL's code for an error, SQLAlchemy's wrapper or the driver's own; None for
    anything else (SQLite, a lost connection before any reply)."""
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(driver_error, "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else None


def ping(engine: Engine) -> None:
    """Raises unless the database answers a trivial query (start-up waits, /readyz).
    Read-only, so on SQLite it does not queue for the writer lock: a batch or another
    process writing is no sign of an unreachable database."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        connection.execute(text("SELECT 1"))


def in_transaction(
    engine: Engine, work: Callable[[Connection], _T], *, lock_wait_ms: int | None = None
) -> _T:
    """`work` in one transaction, not retried here: a failure `is_retryable` names comes out as
    TransientError (the caller decides whether to run it again), anything else unchanged.
    With `lock_wait_ms`, a lock another transaction holds is waited for that long at most,
    then the same TransientError."""
    options = {} if lock_wait_ms is None else {LOCK_WAIT_MS: lock_wait_ms}
    try:
        with engine.connect().execution_options(**options) as connection, connection.begin():
            if lock_wait_ms is not None and connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_wait_ms)}")
            return work(connection)
    except Exception as exc:
        if is_retryable(exc):
            raise TransientError("the database asked for the transaction to be retried") from exc
        raise
