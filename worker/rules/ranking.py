"""Ranking and the cap (REENGAGEMENT.md "Ranking and the cap").

Order: preferred credentials matched (descending), inactive days (ascending), candidate id in
byte order. The cap counts every request ever made for the job, by either trigger, cancelled
ones included; `rank` continues the job's sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

RankKey = tuple[int, int, bytes]


def rank_key(preferred_matched: int, inactive_days: int, candidate_id: str) -> RankKey:
    """Sort ascending by this key to get the spec's order.

    The id is compared as UTF-8 bytes: "B" < "a" and "C-10" < "C-9". (For str, UTF-8 byte
    order equals code point order; the encoding makes the intent explicit, and it is what
    PostgreSQL needs `COLLATE "C"` for.)
    """
    return (-preferred_matched, inactive_days, candidate_id.encode("utf-8"))


def remaining_capacity(requests_so_far: int, max_outreach: int) -> int:
    """How many more requests the job may have; never negative (a lowered cap stops it)."""
    return max(0, max_outreach - requests_so_far)


def take_within_cap(
    ordered: Iterable[T], requests_so_far: int, max_outreach: int
) -> Iterator[tuple[int, T]]:
    """(rank, item) for the leading items the cap leaves room for, ranks continuing the job's
    sequence: the job's first request ever has rank 1."""
    room = remaining_capacity(requests_so_far, max_outreach)
    if room == 0:
        return
    for position, item in enumerate(ordered, start=1):
        yield requests_so_far + position, item
        if position == room:
            return
