"""Fitting names into a limit: whole words where possible, never over the limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.rules.shorten import ELLIPSIS, plain, shorten


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("  SQL  ", 100, "SQL"),
        ("Power  BI", 100, "Power  BI"),  # fits: the spelling is kept
        ("Power" + " " * 200 + "BI", 100, "Power BI"),  # too long only for its spaces
        ("Amazon Web Services Certified", 20, "Amazon Web Services…"),
        ("Amazon Web Services Certified", 19, "Amazon Web…"),
        ("Amazon Web Services Certified", 12, "Amazon Web…"),
        ("Supercalifragilistic expialidocious", 10, "Supercali…"),  # one long word: cut inside
        ("ab cdefghijklmnop", 10, "ab cdefgh…"),  # a boundary this early would lose too much
        ("abcdef", 1, ELLIPSIS),
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected


def test_plain_puts_a_name_on_one_line() -> None:
    assert plain("\tSenior\n Data\u2028Analyst  ") == "Senior Data Analyst"


def test_a_limit_must_leave_room() -> None:
    with pytest.raises(ValueError, match="limit"):
        shorten("SQL", 0)


@given(st.text(min_size=1, max_size=400), st.integers(1, 300))
def test_never_over_the_limit_and_never_blank(text: str, limit: int) -> None:
    short = shorten(text, limit)
    assert len(short) <= limit
    assert short == short.strip()
    assert bool(short) == bool(text.strip())
    if len(text.strip()) <= limit:
        assert short == text.strip()
    elif short.endswith(ELLIPSIS):
        assert plain(text).startswith(short.removesuffix(ELLIPSIS))
    else:
        assert short == plain(text)
