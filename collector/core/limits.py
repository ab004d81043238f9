"""Rate limits: a token bucket per API token and per agent, so one caller cannot starve the others."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Allows `rate` events per second per key, in bursts of up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Take `cost` from the key's bucket; False (and nothing taken) when it has not enough."""
        if self.rate <= 0:
            return True
        now = self._clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < cost:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - cost, now)
        if len(self._buckets) > 100_000:  # forget idle keys rather than grow without bound
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
        return True
