"""How a credential is stored and looked up: its normalised form, or a digest of a long one.

A credential is at most 100 characters on the wire, but NFKC can expand one character into 18
and casefolding can triple that: a normalised credential can reach 5,400 characters (about
21 KB of UTF-8), more than a PostgreSQL B-tree entry holds (about 2.7 KB) and more than the
column allows. Such an event is valid, and was once refused by PostgreSQL while SQLite stored
it. So a normalised credential longer than `MAX_PLAIN_BYTES` is stored as a SHA-256 digest of
itself. Matching only ever asks "is this the same credential", which a digest answers as well
as the text (both sides, candidates' rows and jobs' lists, go through `credential_keys`); the
original spellings, which reasons and people read, are stored elsewhere unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from worker.rules.normalise import norm
from worker.store.bounded_keys import bounded_key

# Ordinary credentials stay readable in the table; nothing near this long is a real skill name.
MAX_PLAIN_BYTES = 256
# Credentials come from a small vocabulary (skills, licences, certificates) repeated across a
# whole pool, and normalising one (NFKC, casefold, the byte bound) costs ~1 µs: on ingest that
# was ~5 µs of every snapshot. The bound keeps a stream of one-off spellings to a few MB.
_CACHED_SPELLINGS = 16_384


def credential_key(normalised: str) -> str:
    return bounded_key(normalised, MAX_PLAIN_BYTES)


def credential_keys(credentials: Iterable[str]) -> frozenset[str]:
    """The stored keys of these credentials (normalised, distinct; an empty normal form
    included, as `norm_set` says why)."""
    return frozenset(map(_key_of_spelling, credentials))


@lru_cache(maxsize=_CACHED_SPELLINGS)
def _key_of_spelling(credential: str) -> str:
    return credential_key(norm(credential))
