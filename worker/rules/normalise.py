"""Credential normalisation: the one definition every matcher (Python and SQL) relies on."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def norm(credential: str) -> str:
    """NFKC, casefold, strip, collapse whitespace: "  ＰＹＴＨＯＮ " and "python" are equal."""
    folded = unicodedata.normalize("NFKC", credential).casefold()
    return " ".join(folded.split())


def norm_set(credentials: Iterable[str]) -> frozenset[str]:
    return frozenset(n for n in (norm(c) for c in credentials) if n)
