"""Counting days from a reference time T, safely near either end of the calendar.

The contract accepts timestamps from 0001-01-02. A window start such as T - 450 days then
falls before year 1, which Python's `datetime` cannot hold, and the subtraction raises. Every
stored time is at or after 0001-01-02, so a start clamped to the earliest instant compares with
all of them exactly as the true, earlier start would. The same holds at the other end: a window
end past 9999-12-31 is clamped to the latest instant, and every stored time is before it (the
contract's last day is 9999-12-30).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST_INSTANT = datetime.min.replace(tzinfo=UTC)
LATEST_INSTANT = datetime.max.replace(tzinfo=UTC)


def days_before(moment: datetime, days: int) -> datetime:
    """`moment` minus `days` whole days, or EARLIEST_INSTANT if that is before year 1."""
    try:
        return moment - timedelta(days=days)
    except OverflowError:
        return EARLIEST_INSTANT


def days_after(moment: datetime, days: int) -> datetime:
    """`moment` plus `days` whole days, or LATEST_INSTANT if that is after year 9999."""
    try:
        return moment + timedelta(days=days)
    except OverflowError:
        return LATEST_INSTANT
