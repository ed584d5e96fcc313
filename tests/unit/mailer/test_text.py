"""Untrusted text made safe for headers and bodies."""

from __future__ import annotations

import pytest

from worker.mailer.text import clean, display_name, header_text, join_list


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        (None, 10, ""),
        ("  Jane \r\n Doe\t", 50, "Jane Doe"),
        ("a\x00b\x1bc\u2028d\u2029e\x85f", 50, "a b c d e f"),
        ("abcdefghij", 5, "abcd…"),
        ("abc defghij", 5, "abc…"),
        ("👩🏽‍💻 dev", 50, "👩🏽‍💻 dev"),  # the zero-width joiner stays
    ],
)
def test_clean(raw: str | None, limit: int, expected: str) -> None:
    assert clean(raw, limit) == expected


def test_header_text_breaks_encoded_words() -> None:
    assert header_text("=?utf-8?q?=0D=0ABcc:_x?=", 100) == "= ?utf-8?q?=0D=0ABcc:_x?="


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("J. R. R. Tolkien-O'Brien", "J. R. R. Tolkien-O'Brien"),
        ('"Jane" <x@evil.example>, Bcc: y', "Jane x evil.example Bcc y"),
        ("=?utf-8?q?Bcc?=", "utf-8 q Bcc"),
        ("Zoë 李 👩🏽‍💻", "Zoë 李 👩🏽‍💻"),
    ],
)
def test_display_name_keeps_no_address_syntax(raw: str, expected: str) -> None:
    assert display_name(raw, 100) == expected


def test_join_list() -> None:
    assert join_list([]) == ""
    assert join_list(["SQL"]) == "SQL"
    assert join_list(["SQL", "dbt"]) == "SQL and dbt"
    assert join_list(["SQL", "dbt", "Python"]) == "SQL, dbt and Python"
