"""Counting days back from a reference time T, safely near the start of the calendar.

The contract accepts timestamps from 0001-01-02. A window start such as T - 450 days then
falls before year 1, which Python's `datetime` cannot hold, and the subtraction raises. Every
stored time is at or after 0001-01-02, so a start clamped to the earliest instant compares with
all of them exactly as the true, earlier start would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST_INSTANT = datetime.min.replace(tzinfo=UTC)


def days_before(moment: datetime, days: int) -> datetime:
    """`moment` minus `days` whole days, or EARLIEST_INSTANT if that is before year 1."""
    try:
        return moment - timedelta(days=days)
    except OverflowError:
        return EARLIEST_INSTANT
