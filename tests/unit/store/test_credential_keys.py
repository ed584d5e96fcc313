"""Credential keys: the normalised form (or its digest), each spelling's remembered."""

from __future__ import annotations

from worker.rules.normalise import norm
from worker.store import credential_keys as keys
from worker.store.bounded_keys import DIGEST_PREFIX


def test_keys_are_the_normalised_spellings_an_empty_one_included() -> None:
    spellings = ["  ＰＹＴＨＯＮ ", "python", "Straße", "\x1c", "ﬃ"]
    assert keys.credential_keys(spellings) == {norm(s) for s in spellings}
    assert "" in keys.credential_keys(["\x1c"])


def test_a_long_normal_form_is_kept_as_its_digest() -> None:
    (key,) = keys.credential_keys(["\ufdfa" * 100])  # NFKC makes each one 18 characters
    assert key.startswith(DIGEST_PREFIX)


def test_only_spellings_within_the_wire_limit_are_remembered() -> None:
    # A job's preferred credentials have no length limit: remembering those would let one
    # stream of long one-off spellings hold thousands of them.
    short, long_ = "x" * 100, "y" * 101
    keys._remembered_key_of_spelling.cache_clear()
    assert keys.credential_keys([short, long_]) == {short, long_}
    assert keys.credential_keys([short, long_]) == {short, long_}
    assert keys._remembered_key_of_spelling.cache_info().currsize == 1
