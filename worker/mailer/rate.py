"""The sending pace: a token bucket for `REENGAGE_MAIL_RATE_PER_SECOND`.

The bucket holds one token: sends are at least 1/rate seconds apart, so no second ever sees
more than `rate` of them. (A bucket of one second's worth let a burst of `rate` after a quiet
spell be followed by `rate` more within the same second: twice what an SMTP provider's
per-second limit allows.) It never sleeps itself: `reserve()` says how long to wait, and the
loop waits while keeping its Kafka consumer alive.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate_per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self._rate = rate_per_second
        self._capacity = 1.0
        self._clock = clock
        self._tokens = self._capacity
        self._updated = clock()

    @property
    def rate(self) -> float:
        return self._rate

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (0 if available now).

        A reservation is never given back: the caller waits, then sends.
        """
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self._rate
