"""Window bounds near either end of the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.contracts.fields import LATEST_EXCLUSIVE
from worker.rules.days import EARLIEST_INSTANT, LATEST_INSTANT, days_after, days_before

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


def test_days_after_is_plain_addition_in_the_calendar() -> None:
    assert days_after(T, 21) == T + timedelta(days=21)
    assert days_after(T, 0) == T


def test_an_end_after_year_9999_is_the_latest_instant() -> None:
    latest_event = LATEST_EXCLUSIVE - timedelta(microseconds=1)  # the contract's latest
    assert days_after(latest_event, 21) == LATEST_INSTANT
    assert days_after(datetime(9999, 12, 1, tzinfo=UTC), 21) == datetime(9999, 12, 22, tzinfo=UTC)
    assert latest_event < LATEST_INSTANT  # so every stored time compares as before
