"""Credential keys: the normalised form (or its digest), each spelling's remembered."""

from __future__ import annotations

import hashlib

from worker.rules.normalise import norm
from worker.store import credential_keys as keys
from worker.store.bounded_keys import DIGEST_PREFIX, bounded_key


def test_keys_are_the_normalised_spellings_an_empty_one_included() -> None:
    spellings = ["  ＰＹＴＨＯＮ ", "python", "Straße", "\x1c", "ﬃ"]
    assert keys.credential_keys(spellings) == {norm(s) for s in spellings}
    assert "" in keys.credential_keys(["\x1c"])


def test_a_long_normal_form_is_kept_as_its_digest() -> None:
    (key,) = keys.credential_keys(["\ufdfa" * 100])  # NFKC makes each one 18 characters
    assert key.startswith(DIGEST_PREFIX)


def test_a_spelling_shaped_like_a_digest_is_not_the_key_of_what_it_names() -> None:
    """Kept as itself, "sha256:<digest of X>" would be X's key: a candidate holding that
    text would meet a job requiring X."""
    (long_key,) = keys.credential_keys(["\ufdfa" * 100])
    (lookalike,) = keys.credential_keys([long_key.upper()])  # normalises to long_key
    assert lookalike != long_key
    assert lookalike == DIGEST_PREFIX + hashlib.sha256(long_key.encode()).hexdigest()
    # Only the exact shape is: other text with the prefix stays readable.
    assert keys.credential_keys(["SHA256: Python"]) == {"sha256: python"}
    assert keys.credential_keys([long_key[:-1]]) == {long_key[:-1]}


def test_bounded_keys_of_distinct_values_differ_at_every_length() -> None:
    limit = 80  # the digest itself (71 bytes) fits
    values = ["a" * 80, "a" * 81, "é" * 41, "sha256:" + "0" * 64, "sha256:" + "0" * 63]
    digested = [bounded_key(v, limit) for v in values]
    values.append(digested[1])  # a literal spelled as another value's key
    digested.append(bounded_key(digested[1], limit))
    assert len(set(digested)) == len(values)
    assert bounded_key("a" * 80, limit) == "a" * 80


def test_only_spellings_within_the_wire_limit_are_remembered() -> None:
    # A job's preferred credentials have no length limit: remembering those would let one
    # stream of long one-off spellings hold thousands of them.
    short, long_ = "x" * 100, "y" * 101
    keys._remembered_key_of_spelling.cache_clear()
    assert keys.credential_keys([short, long_]) == {short, long_}
    assert keys.credential_keys([short, long_]) == {short, long_}
    assert keys._remembered_key_of_spelling.cache_info().currsize == 1
