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
# was ~5 µs of every snapshot. So spellings up to the candidate credential's wire limit are
# remembered, at most this many: with their keys (at most MAX_PLAIN_BYTES or a digest) a few
# MB in all. A job's preferred credentials have no length limit; longer spellings are
# normalised each time rather than kept.
_CACHED_SPELLINGS = 16_384
_CACHED_MAX_CHARS = 100


def credential_key(normalised: str) -> str:
    return bounded_key(normalised, MAX_PLAIN_BYTES)


def credential_keys(credentials: Iterable[str]) -> frozenset[str]:
    """The stored keys of these credentials (normalised, distinct; an empty normal form
    included, as `norm_set` says why)."""
    return frozenset(map(_key_of_spelling, credentials))


def _key_of_spelling(credential: str) -> str:
    if len(credential) > _CACHED_MAX_CHARS:
        return credential_key(norm(credential))
    return _remembered_key_of_spelling(credential)


@lru_cache(maxsize=_CACHED_SPELLINGS)
def _remembered_key_of_spelling(credential: str) -> str:
    return credential_key(norm(credential))
