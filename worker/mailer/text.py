"""Making untrusted text (names, titles, credentials from events) safe to show.

Header injection needs a line break: every control character (CR, LF, NUL, ...) and the
Unicode line and paragraph separators become a space, so no value can start a header or end
the header block. Format characters (Cf) stay: emoji sequences and scripts need the zero-width
joiners. Long values are cut on a character boundary with an ellipsis, so one 500-character
name cannot push a header past what servers accept (the `email` package then folds and
RFC 2047-encodes what remains).
"""

from __future__ import annotations

import re
import unicodedata

_BREAKING = frozenset({"Cc", "Zl", "Zp", "Cs"})
_SPACES = re.compile(r"\s+")
ELLIPSIS = "…"


def clean(value: str | None, limit: int) -> str:
    """One line of at most `limit` characters: no control characters, whitespace collapsed."""
    if not value:
        return ""
    visible = "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in value)
    line = _SPACES.sub(" ", visible).strip()
    if len(line) <= limit:
        return line
    return line[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def header_text(value: str | None, limit: int) -> str:
    """`clean`, and no RFC 2047 encoded word either: the `email` package decodes those in the
    values it is given and writes the result out raw, so `=?utf-8?q?=0D=0ABcc:...?=` would
    become a line break and a new header (CPython 3.11). Breaking the `=?` opener keeps the
    text as typed."""
    return clean(value, limit).replace("=?", "= ?")


_NAME_PUNCTUATION = frozenset(".'-’")


def display_name(value: str | None, limit: int) -> str:
    """A name for an address header: letters, marks, digits, spaces, emoji and `.'-` only.

    Anything else (quotes, `@`, `:`, `<`, `,`, `=`, `?` ...) becomes a space. Those would need
    a quoted string, and the `email` package drops the quotes when it folds a long one
    (CPython 3.11), after which `Bcc: x@evil.example` in a name reads as an address."""
    kept = "".join(
        ch
        if unicodedata.category(ch)[0] in "LMN"
        or unicodedata.category(ch) in ("Zs", "So", "Sk", "Cf")
        or ch in _NAME_PUNCTUATION
        else " "
        for ch in clean(value, limit)
    )
    return _SPACES.sub(" ", kept).strip()


def join_list(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`: plain English for a short list."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
