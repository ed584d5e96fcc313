"""Column types shared by every table, chosen so both databases compare and sort alike.

Timestamps are stored as integer microseconds since the Unix epoch (UTC). Rule 6 needs
`floor((T - last_activity_at) / 24 h)` to come out the same in PostgreSQL, SQLite and Python;
integer arithmetic makes it so (SQLite has no timestamp type, and interval-to-day arithmetic
differs between the two). Python code still sees aware `datetime`s.

Identifiers and credentials compare in byte order on both databases: SQLite's default BINARY
collation already is; PostgreSQL columns get `COLLATE "C"`, so ordering and index order never
depend on the server's locale (the ranking's tie-break is "candidate_id, byte order").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MICROS_PER_DAY = 86_400_000_000


def to_micros(moment: datetime) -> int:
    """Aware datetime -> microseconds since the epoch. Naive datetimes are a bug: refuse them."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must carry a UTC offset")
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class Timestamp(TypeDecorator[datetime]):
    """An aware datetime, stored as BIGINT microseconds since the epoch (UTC)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return to_micros(value)
        raise TypeError(f"expected an aware datetime, got {type(value).__name__}")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(int(value))


def byte_ordered(length: int) -> TypeEngine[str]:
    """VARCHAR(length) that sorts and compares by bytes on PostgreSQL as on SQLite."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")
