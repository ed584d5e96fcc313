"""Values that can be too long for a B-tree index entry, kept as a digest of themselves.

PostgreSQL refuses an index entry over about 2.7 KB. Some values the contract allows can be
longer than that once UTF-8 encoded (a 1,024-character event `source` of 4-byte characters is
4 KB; a normalised credential up to ~21 KB), and an index refusal is not something a retry can
fix. Such values are stored as `sha256:` + the hex digest of their UTF-8 bytes: lookups only
ever ask "is this the same value", which the digest answers as well as the text. Short values,
nearly all of them, stay readable.

A short value spelled exactly like a digest (a credential or an event id may be
"sha256:<64 hex digits>") is digested too. Kept as it is, it would be the key of the long
value it names: a candidate holding that text would meet a job requiring the long credential,
and an event with that id would pass for the long-id event already processed. So a kept value
never looks like a digest, and two values share a key only if SHA-256 collides.
"""

from __future__ import annotations

import hashlib
import re

DIGEST_PREFIX = "sha256:"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def bounded_key(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes and not is_digest_shaped(text):
        return text
    return DIGEST_PREFIX + hashlib.sha256(encoded).hexdigest()


def is_digest_shaped(text: str) -> bool:
    return text.startswith(DIGEST_PREFIX) and _DIGEST.fullmatch(text) is not None
