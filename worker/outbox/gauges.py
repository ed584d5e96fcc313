"""The outbox backlog gauges (`reengage_outbox_pending`, `reengage_outbox_oldest_seconds`).

The relay refreshes them every cycle. Before it runs, while the process still waits for the
broker at start-up, a thread of their own keeps them current: a backlog piling up behind an
unreachable broker is what an outbox alert is for, and the gauges must not read 0 then.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from worker.logs import get_logger
from worker.runtime.metrics import OUTBOX_OLDEST_SECONDS, OUTBOX_PENDING
from worker.store.engine import READ_ONLY
from worker.store.schema import OutboxRow

log = get_logger("reengage.relay")


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    pending: int
    oldest_age_seconds: float | None  # None: nothing pending


def outbox_backlog(connection: Connection, now: datetime) -> OutboxBacklog:
    """Rows not yet published, and how long the oldest has waited (by the wall clock: this
    is about the relay keeping up, not about events)."""
    pending, oldest = connection.execute(
        select(func.count(), func.min(OutboxRow.created_at)).where(OutboxRow.published_at.is_(None))
    ).one()
    age = None if oldest is None else max(0.0, (now - oldest).total_seconds())
    return OutboxBacklog(pending=int(pending), oldest_age_seconds=age)


def refresh_outbox_gauges(engine: Engine) -> None:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        backlog = outbox_backlog(connection, datetime.now(UTC))
    OUTBOX_PENDING.set(backlog.pending)
    OUTBOX_OLDEST_SECONDS.set(backlog.oldest_age_seconds or 0.0)


def try_refresh_outbox_gauges(engine: Engine) -> None:
    """For whoever only reads: on a database error the gauges keep their last reading."""
    try:
        refresh_outbox_gauges(engine)
    except SQLAlchemyError as exc:  # the database, or the pool's wait for a connection
        log.debug("outbox gauges not refreshed", error_class=type(exc).__name__)


@contextmanager
def outbox_gauges_kept_current(engine: Engine, every_s: float) -> Iterator[None]:
    """Refresh the gauges now and every `every_s` seconds until the block ends."""
    done = threading.Event()

    def keep_current() -> None:
        while True:
            try_refresh_outbox_gauges(engine)
            if done.wait(every_s):
                return

    thread = threading.Thread(target=keep_current, name="reengage-outbox-gauges", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=3)
