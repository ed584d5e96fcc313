"""Committing the claim and writing the SMTP end of data back to back.

A process can die between any two system calls, and two systems with no shared commit (the
ledger and the SMTP server) cannot be changed atomically. What can be made small is the gap
between the two writes that decide: the ledger's COMMIT and the end of data. Waiting for the
COMMIT's reply before writing the end of data would leave the whole round trip (and, with a
durable commit, the server's fsync) in that gap; a kill there leaves a committed `sending` row
for an email the server never got. So on PostgreSQL the COMMIT is handed to the server, the end
of data is written right after it, and only then is the COMMIT's reply read: the gap is two
system calls.

SQLite commits in the calling process, so its COMMIT cannot be sent ahead: the driver's commit
returns once the WAL frame is written (synchronous=NORMAL, tens of microseconds; longer when
that commit also checkpoints the WAL), and the end of data follows it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import Enum

import psycopg
from psycopg import pq
from sqlalchemy.engine import Connection, RootTransaction

from worker.logs import get_logger

log = get_logger("reengage.mailer")


class Handover(Enum):
    # The COMMIT could not be sent (or SQLite's commit failed): `then` was not called.
    NOT_SENT = "not_sent"
    COMMITTED = "committed"
    # `then` was called, but the COMMIT failed or its reply never came: the claim may or may
    # not be in the ledger.
    UNCERTAIN = "uncertain"


def commit_then(
    connection: Connection, transaction: RootTransaction, then: Callable[[], None]
) -> Handover:
    """Commit `transaction` and call `then()` (which must not raise) as soon as the COMMIT is
    on its way; the transaction is closed whatever happens."""
    driver = connection.connection.driver_connection
    if isinstance(driver, psycopg.Connection):
        return _pipelined_commit(driver, transaction, then)
    try:
        # The driver's own commit: SQLAlchemy's bookkeeping comes after the end of data.
        driver.commit()  # type: ignore[union-attr]
    except Exception:
        log.exception("committing the claim failed")
        _close(transaction, committed=False)
        return Handover.NOT_SENT
    then()
    _close(transaction, committed=True)
    return Handover.COMMITTED


def _pipelined_commit(
    driver: psycopg.Connection[object], transaction: RootTransaction, then: Callable[[], None]
) -> Handover:
    pgconn = driver.pgconn
    outcome = Handover.NOT_SENT
    try:
        # psycopg drives libpq in non-blocking mode; in blocking mode send_query returns only
        # once the COMMIT is in the socket, and get_result waits for its reply.
        pgconn.nonblocking = 0
        pgconn.send_query(b"COMMIT")
        then()
        outcome = Handover.UNCERTAIN
        result = pgconn.get_result()
        while pgconn.get_result() is not None:
            pass
        if result is not None and result.status == pq.ExecStatus.COMMAND_OK:
            outcome = Handover.COMMITTED
        else:
            log.error("the database did not confirm the claim's commit")
    except psycopg.Error:
        log.exception("committing the claim failed")
    finally:
        with contextlib.suppress(psycopg.Error):  # a lost connection refuses even this
            pgconn.nonblocking = 1
    _close(transaction, committed=outcome is Handover.COMMITTED)
    return outcome


def _close(transaction: RootTransaction, *, committed: bool) -> None:
    """The driver sees no open transaction any more after its COMMIT, so this only closes
    SQLAlchemy's side; otherwise it rolls back whatever is left."""
    try:
        if committed:
            transaction.commit()
        else:
            transaction.rollback()
    except Exception:
        log.exception("closing the claim's transaction failed")
