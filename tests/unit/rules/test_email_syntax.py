"""The fast path for plain addresses never disagrees with email-validator."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.rules.email_syntax import _is_plain, email_syntax_valid

_ATOM = st.text("abcXYZ019_+-", min_size=1, max_size=70)
_LABEL = st.text("abzAZ09-", min_size=1, max_size=70)
_TLD = st.text("abcdefghijklmnopqrstuvwxyzCOM", min_size=1, max_size=70)


def _library(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@st.composite
def _plain_shaped(draw: st.DrawFn) -> str:
    """Addresses near and across the fast path's edges: long parts, hyphens, `--`, short TLDs."""
    local = ".".join(draw(st.lists(_ATOM, min_size=1, max_size=4)))
    labels = draw(st.lists(_LABEL, min_size=1, max_size=5))
    tld = draw(st.one_of(_TLD, st.sampled_from(["test", "LOCAL", "onion", "arpa", "com"])))
    return f"{local}@{'.'.join([*labels, tld])}"


@settings(max_examples=3000)
@given(_plain_shaped())
def test_every_address_the_fast_path_accepts_the_library_accepts(address: str) -> None:
    if _is_plain(address):
        assert _library(address), address
    assert email_syntax_valid(address) == _library(address), address


@settings(max_examples=1000)
@given(st.text('ab.@-_+ "()[]<>,;:\\üé1', max_size=40))
def test_any_text_is_judged_as_the_library_judges_it(address: str) -> None:
    assert email_syntax_valid(address) == _library(address)


@pytest.mark.parametrize(
    ("address", "plain"),
    [
        ("first.last+tag@mail.example.com", True),
        ("A_B-c@Sub-Domain.Example.COM", True),
        ("a..b@example.com", False),
        (".a@example.com", False),
        ("a@ex--ample.com", False),
        ("a@xn--80ak6aa92e.com", False),
        ("a@host.test", False),
        ("a@host.Localhost", False),
        ("a@-host.com", False),
        ("a@localhost", False),
        (" a@example.com", False),
        ("josé@example.com", False),
        ("a" * 65 + "@example.com", False),
    ],
)
def test_examples(address: str, plain: bool) -> None:
    assert _is_plain(address) is plain
    assert email_syntax_valid(address) == _library(address)
