"""The token bucket: a burst of one second's worth, then the configured rate."""

from __future__ import annotations

import pytest

from worker.mailer.rate import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_one_seconds_worth_then_spaces_sends() -> None:
    clock = Clock()
    bucket = TokenBucket(4.0, clock)
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.25)
    assert bucket.reserve() == pytest.approx(0.5)  # reservations queue up


def test_waiting_refills_and_the_rate_holds_over_time() -> None:
    clock = Clock()
    bucket = TokenBucket(10.0, clock)
    sent_at: list[float] = []
    for _ in range(50):
        clock.now += bucket.reserve()  # the caller waits as told, then sends
        sent_at.append(clock.now)
    # 10 at once, then one every 0.1 s: 50 sends take 4 s.
    assert sent_at[-1] - sent_at[0] == pytest.approx(4.0)


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
