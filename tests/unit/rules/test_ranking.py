"""The ranking key and the cap."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from worker.rules.ranking import rank_key, remaining_capacity, take_within_cap


def test_ids_sort_in_byte_order() -> None:
    ids = ["a", "é", "C-9", "B", "C-10", "z", "b", "C-1"]
    ordered = sorted(ids, key=lambda i: rank_key(0, 200, i))
    assert ordered == ["B", "C-1", "C-10", "C-9", "a", "b", "z", "é"]


def test_preferred_first_then_recent_then_id() -> None:
    rows = [
        ("a", 0, 180),  # (id, preferred matched, inactive days)
        ("b", 2, 400),
        ("c", 2, 200),
        ("d", 1, 180),
        ("A", 2, 200),
    ]
    ordered = [r[0] for r in sorted(rows, key=lambda r: rank_key(r[1], r[2], r[0]))]
    assert ordered == ["A", "c", "b", "d", "a"]


@pytest.mark.parametrize(
    ("so_far", "cap", "expected"),
    [
        (0, 100, [(1, "w"), (2, "x"), (3, "y"), (4, "z")]),
        (0, 2, [(1, "w"), (2, "x")]),
        (3, 5, [(4, "w"), (5, "x")]),
        (5, 5, []),
        (7, 5, []),  # a cap lowered below what was requested stops the job
        (0, 0, []),
        (2, 6, [(3, "w"), (4, "x"), (5, "y"), (6, "z")]),
    ],
)
def test_take_within_cap(so_far: int, cap: int, expected: list[tuple[int, str]]) -> None:
    assert list(take_within_cap(["w", "x", "y", "z"], so_far, cap)) == expected


def test_take_within_cap_stops_reading_at_the_cap() -> None:
    consumed: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            consumed.append(n)
            yield n
            n += 1

    assert [r for r, _ in take_within_cap(endless(), 10, 13)] == [11, 12, 13]
    assert consumed == [0, 1, 2]


@pytest.mark.parametrize(("so_far", "cap", "room"), [(0, 3, 3), (2, 3, 1), (3, 3, 0), (9, 3, 0)])
def test_remaining_capacity(so_far: int, cap: int, room: int) -> None:
    assert remaining_capacity(so_far, cap) == room
