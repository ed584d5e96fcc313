"""One active relay per database, so no two relays can reorder events for one candidate.

PostgreSQL: a session advisory lock on a dedicated connection; if the holder dies its
connection closes and the lock passes to a standby. SQLite: an advisory file lock beside
the database file, released by the kernel when the holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from worker.runtime.retry import is_transient

# Any constant shared by every relay of this project ("reen" in ASCII).
_ADVISORY_LOCK_KEY = 0x7265656E


class RelayLeadership:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def try_acquire(self) -> bool:
        """True when this relay leads (now or already). A database that does not answer means
        "not now", never a crash: a standby must survive a blip."""
        if self.held:
            return True
        if self._engine.dialect.name == "postgresql":
            try:
                return self._try_advisory_lock()
            except Exception as exc:
                if is_transient(exc):
                    return False
                raise
        return self._try_file_lock()

    def still_held(self) -> bool:
        """Checked before each publishing cycle: a PostgreSQL restart or failover ends the
        session and silently frees the lock, after which a standby may lead. Drop the lease
        then, rather than publish beside another relay."""
        if self._connection is None:
            return self.held
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception:
            self._forget_connection()
            return False
        return True

    def _forget_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()

    def _try_advisory_lock(self) -> bool:
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
        ).scalar_one()
        if got:
            self._connection = connection
        else:
            connection.close()
        return bool(got)

    def _try_file_lock(self) -> bool:
        database = self._engine.url.database
        if not database or database == ":memory:":
            return True  # a private in-memory database has one relay by construction
        handle = Path(f"{database}.relay.lock").open("ab")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        os.set_inheritable(handle.fileno(), False)
        self._file = handle
        return True

    def release(self) -> None:
        if self._connection is not None:
            # Closing only returns the connection to the pool, where the session (and its
            # lock) would live on: unlock explicitly. If the session is gone, so is the lock.
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                )
                self._connection.close()
                self._connection = None
            except Exception:
                self._forget_connection()
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
