"""Timestamps as epoch microseconds: exact, UTC, and naive datetimes refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.store.columns import MICROS_PER_DAY, Timestamp, from_micros, to_micros


def test_epoch_is_zero_and_offsets_are_honoured() -> None:
    assert to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    paris = timezone(timedelta(hours=2))
    assert to_micros(datetime(1970, 1, 1, 2, 0, 0, 1, tzinfo=paris)) == 1
    assert to_micros(datetime(1970, 1, 2, tzinfo=UTC)) == MICROS_PER_DAY


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        to_micros(datetime(2026, 1, 1))


@given(st.datetimes(timezones=st.just(UTC)))
def test_round_trip_is_exact(moment: datetime) -> None:
    assert from_micros(to_micros(moment)) == moment


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_integer_days_equal_timedelta_floor_division(t: datetime, last: datetime) -> None:
    # What the SQL computes for non-negative spans, against what the rules compute.
    if last <= t:
        assert (to_micros(t) - to_micros(last)) // MICROS_PER_DAY == (t - last) // timedelta(days=1)


def test_column_type_binds_and_reads_datetimes() -> None:
    column = Timestamp()
    moment = datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)
    stored = column.process_bind_param(moment, dialect=None)  # type: ignore[arg-type]
    assert stored == to_micros(moment)
    assert column.process_result_value(stored, dialect=None) == moment  # type: ignore[arg-type]
    assert column.process_bind_param(None, dialect=None) is None  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        column.process_bind_param("2026-11-20", dialect=None)  # type: ignore[arg-type]
