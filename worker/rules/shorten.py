"""Fitting a name (a title, a credential) into a sentence or a number of characters, readably.

The outreach event limits what it carries, while EVENTS.md gives no limit on a preferred
credential, so the reason names things shortened to fit rather than making a valid event
impossible to publish.
"""

from __future__ import annotations

ELLIPSIS = "…"


def plain(text: str) -> str:
    """`text` on one line: surrounding whitespace removed, inner runs (line breaks, tabs,
    several spaces) made one space."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """`text` without surrounding whitespace; when that is over `limit` characters, made
    plain, and when still over, cut to fit with an ellipsis.

    The cut falls between words unless that would lose more than half the room (one very long
    word is cut inside). The result is never longer than `limit`, and not blank when `text`
    is not.
    """
    if limit < 1:
        raise ValueError("the limit must leave room for at least one character")
    stripped = text.strip()
    if len(stripped) <= limit:
        return stripped
    tidy = plain(stripped)
    if len(tidy) <= limit:
        return tidy
    room = limit - len(ELLIPSIS)
    head = tidy[:room]
    if tidy[room] != " ":  # the cut falls inside a word: go back to the last word boundary
        boundary = head.rfind(" ")
        if boundary >= room // 2:
            head = head[:boundary]
    return head.rstrip() + ELLIPSIS
