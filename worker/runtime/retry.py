"""Retrying transient failures in place: exponential backoff with jitter, bounded in time.

While a loop waits between attempts it must keep talking to the broker (poll with its
partitions paused), or the group would evict it and hand its partitions to someone else.
The `idle` callback does that; it replaces tenacity's sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from kafka.errors import BrokerNotAvailableError, KafkaError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from worker.errors import FatalError, TransientError
from worker.logs import get_logger
from worker.store.engine import sqlstate_of

log = get_logger("reengage.retry")

T = TypeVar("T")


# PostgreSQL raises these as "operational" errors, but they are about the statement's own
# data (e.g. an index entry over the B-tree's size limit) and fail the same way every time:
# 53 insufficient resources is worth waiting for, 54 program limit exceeded is not.
_DETERMINISTIC_SQLSTATE_CLASSES = frozenset({"54"})


def is_transient(error: BaseException) -> bool:
    """Worth retrying: the database or the broker is briefly unavailable."""
    if isinstance(error, FatalError):
        return False
    if isinstance(error, OperationalError) and _deterministic(error):
        return False
    if isinstance(error, TransientError | OperationalError | PoolTimeoutError):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    if isinstance(error, KafkaError):
        return bool(error.retriable) or isinstance(error, BrokerNotAvailableError)
    return isinstance(error, ConnectionError | TimeoutError)


def _deterministic(error: DBAPIError) -> bool:
    sqlstate = sqlstate_of(error)
    return sqlstate is not None and sqlstate[:2] in _DETERMINISTIC_SQLSTATE_CLASSES


def retry_transient(
    attempt: Callable[[], T],
    *,
    budget_s: float,
    idle: Callable[[float], None] = time.sleep,
    what: str = "operation",
    initial_s: float = 0.5,
    max_wait_s: float = 10.0,
) -> T:
    """Run `attempt` until it succeeds, a non-transient error occurs (raised as is), or
    `budget_s` is spent (RetryBudgetSpentError, chained to the last transient error)."""

    def _log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "transient failure, retrying",
            what=what,
            attempt=state.attempt_number,
            error_class=type(error).__name__,
            # The driver's classes are broad (a read-only server is an InternalError); the
            # code says which failure it is, and holds no data.
            sqlstate=sqlstate_of(error),
            wait_s=round(state.upcoming_sleep, 2),
        )

    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential_jitter(multiplier=initial_s, max=max_wait_s, jitter=initial_s),
        stop=stop_after_delay(budget_s),
        sleep=idle,
        before_sleep=_log_retry,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except Exception as exc:
        if is_transient(exc):
            # Not a transient error any more: callers must not mistake it for one (and, say,
            # dead-letter valid events because the database stayed down).
            raise RetryBudgetSpentError(
                f"{what}: still failing after {budget_s:g} s ({type(exc).__name__})"
            ) from exc
        raise


class RetryBudgetSpentError(FatalError):
    """A transient failure outlasted the retry budget: the process should stop (exit 1)."""
