"""The token bucket: one send at once, then the configured pace; never more than the rate in
any second."""

from __future__ import annotations

import pytest

from worker.mailer.rate import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_after_a_quiet_spell_one_send_goes_at_once_then_sends_are_spaced() -> None:
    clock = Clock()
    bucket = TokenBucket(4.0, clock)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.25)
    assert bucket.reserve() == pytest.approx(0.5)  # reservations queue up


def test_waiting_refills_and_the_rate_holds_over_time() -> None:
    clock = Clock()
    bucket = TokenBucket(10.0, clock)
    sent_at: list[float] = []
    for _ in range(50):
        clock.now += bucket.reserve()  # the caller waits as told, then sends
        sent_at.append(clock.now)
    # One every 0.1 s: 50 sends take 4.9 s, and no second holds more than 10 of them.
    assert sent_at[-1] - sent_at[0] == pytest.approx(4.9)
    for start in sent_at:
        assert sum(start <= t < start + 1.0 for t in sent_at) <= 10


def test_a_quiet_spell_buys_no_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(10.0, clock)
    clock.now += 60
    sent_at = []
    for _ in range(20):
        clock.now += bucket.reserve()
        sent_at.append(clock.now)
    assert sum(t < sent_at[0] + 1.0 for t in sent_at) <= 10


def test_a_slow_rate_still_allows_one_send_at_once() -> None:
    clock = Clock()
    bucket = TokenBucket(0.5, clock)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(2.0)
    clock.now += 10  # idle: the bucket refills only up to its capacity of one
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(2.0)


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0.0)
