"""Window starts near the start of the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.rules.days import EARLIEST_INSTANT, days_before

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_days_before_is_plain_subtraction_in_the_calendar() -> None:
    assert days_before(T, 450) == T - timedelta(days=450)
    assert days_before(T, 0) == T


def test_a_start_before_year_one_is_the_earliest_instant() -> None:
    earliest_event = datetime(1, 1, 2, tzinfo=UTC)  # the contract's earliest timestamp
    assert days_before(earliest_event, 1) == datetime(1, 1, 1, tzinfo=UTC)
    assert days_before(earliest_event, 2) == EARLIEST_INSTANT
    assert days_before(datetime(1, 3, 1, tzinfo=UTC), 451) == EARLIEST_INSTANT
    assert earliest_event > EARLIEST_INSTANT  # so every stored time compares as before
