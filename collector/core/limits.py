"""Rate limits: a token bucket per API token and per agent, so one caller cannot starve the others; the
admission of agent report streams."""

from __future__ import annotations

import random
import resource
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


class StreamAdmission:
    """How many agent report streams the collector holds at once and how fast it takes on new ones.

    After an outage every agent comes back within seconds; taking them all on at once would starve the
    streams already open (each new stream looks its machine up in the database). A stream over either
    limit is refused with a retry hint spread over `spread_s`, so the refused agents come back at
    different moments rather than in a second wave.
    """

    def __init__(
        self,
        max_streams: int,
        open_rate: float,
        *,
        spread_s: tuple[float, float] = (1.0, 5.0),
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        """`max_streams`: open streams at most (0: no limit); `open_rate`: new streams a second, in bursts
        of as many (0: no limit)."""
        self.max_streams = max_streams
        self.open = 0
        self._rate = RateLimiter(open_rate, max(1.0, open_rate), clock)
        self._spread = spread_s
        self._rng = rng or random.Random()

    def admit(self) -> float | None:
        """None when the stream may open (count it; call release() when it ends), else the seconds after
        which the agent should try again."""
        if (self.max_streams and self.open >= self.max_streams) or not self._rate.allow("streams"):
            return self._rng.uniform(*self._spread)
        self.open += 1
        return None

    def release(self) -> None:
        self.open -= 1


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (every agent connection holds a socket;
    a soft limit of 1 024 refuses connections long before the collector is busy); the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # e.g. an infinite hard limit the kernel caps lower
        return soft
    return hard
