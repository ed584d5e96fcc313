"""Rule 4's syntax test: the `email-validator` package's rules, without DNS.

Run once when a candidate is stored (the result is kept as `Candidate.email_syntax_valid`), so
matching never re-parses addresses and the SQL matcher reads a column.

Most addresses are plain (`first.last+tag@mail.example.com`), and email-validator spends about
25 us on each, the largest single cost of ingesting a snapshot. A plain address is recognised
by one regular expression instead: an ASCII dot-atom local part of common characters, a
hostname of letter-digit-hyphen labels without `--`, an alphabetic top-level domain that is not
a special-use one, and the library's length limits. email-validator accepts every such address
(tests/unit/rules/test_email_syntax.py holds the two together with generated addresses);
anything else is judged by email-validator itself.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

_PLAIN = re.compile(
    r"(?=[\x21-\x7e]{6,254}\Z)"  # printable ASCII; the library's 254-character limit
    r"(?P<local>[A-Za-z0-9_+-]{1,64}(?:\.[A-Za-z0-9_+-]+)*)"
    r"@"
    r"(?P<domain>(?:(?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+(?P<tld>[A-Za-z]{2,63}))\Z"
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def email_syntax_valid(address: str | None) -> bool:
    """Whether `address` is a syntactically valid address (no DNS lookups, no normalising:
    the address is judged as given, surrounding spaces included)."""
    if not address or "@" not in address:
        return False  # the library's verdict too, without the cost of its exception
    if _is_plain(address):
        return True
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _is_plain(address: str) -> bool:
    match = _PLAIN.match(address)
    if match is None or len(match["local"]) > 64:
        return False
    domain = match["domain"].lower()
    return "--" not in domain and match["tld"].lower() not in _SPECIAL_USE
