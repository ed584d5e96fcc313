"""Credential normalisation: the one definition every matcher (Python and SQL) relies on."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def norm(credential: str) -> str:
    """NFKC, casefold, strip, collapse whitespace: "  ＰＹＴＨＯＮ " and "python" are equal."""
    folded = unicodedata.normalize("NFKC", credential).casefold()
    return " ".join(folded.split())


def norm_set(credentials: Iterable[str]) -> frozenset[str]:
    """Every credential's normalised form, an empty one too: a job requirement made only of
    characters the contract does not trim but `strip()` does (U+001C-U+001F) normalises to ""
    and, as the rules say, is met only by a candidate credential that normalises to "" too.
    Dropping it would turn that requirement into none and match every dormant candidate."""
    return frozenset(norm(c) for c in credentials)
