"""The sending pace: a token bucket for `REENGAGE_MAIL_RATE_PER_SECOND`.

The bucket holds at most one second's worth of tokens (at least one), so after a quiet spell
the mailer may send a short burst of `rate` messages, and over any longer stretch no more
than `rate` per second. It never sleeps itself: `reserve()` says how long to wait, and the
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
        self._capacity = max(1.0, rate_per_second)
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
