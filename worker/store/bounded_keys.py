"""Values that can be too long for a B-tree index entry, kept as a digest of themselves.

PostgreSQL refuses an index entry over about 2.7 KB. Some values the contract allows can be
longer than that once UTF-8 encoded (a 1,024-character event `source` of 4-byte characters is
4 KB; a normalised credential up to ~21 KB), and an index refusal is not something a retry can
fix. Such values are stored as `sha256:` + the hex digest of their UTF-8 bytes: lookups only
ever ask "is this the same value", which the digest answers as well as the text. Short values,
nearly all of them, stay readable.
"""

from __future__ import annotations

import hashlib

DIGEST_PREFIX = "sha256:"


def bounded_key(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return DIGEST_PREFIX + hashlib.sha256(encoded).hexdigest()
