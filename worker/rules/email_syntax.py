"""Rule 4's syntax test: the `email-validator` package's rules, without DNS.

Run once when a candidate is stored (the result is kept as `Candidate.email_syntax_valid`), so
matching never re-parses addresses and the SQL matcher reads a column.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def email_syntax_valid(address: str | None) -> bool:
    """Whether `address` is a syntactically valid address (no DNS lookups, no normalising:
    the address is judged as given, surrounding spaces included)."""
    if not address:
        return False
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
