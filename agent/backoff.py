"""Reconnect delays: exponential backoff with ±20 % jitter, as a pure function."""

from __future__ import annotations

import random

import grpc

# Longest wait between reconnects while the collector is down: short enough that a backlog starts draining
# within seconds of the collector's return, long enough (with jitter) to spread thousands of agents.
MAX_DELAY_S = 15.0

# Codes after which the agent retries; any other code means the collector refuses it for good
# (e.g. UNAUTHENTICATED for a revoked or unknown agent), and it retries only slowly.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


def next_delay(
    attempt: int,
    code: grpc.StatusCode | None,
    *,
    base: float = 0.5,
    cap: float = MAX_DELAY_S,
    refused: float = 300.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before reconnect attempt number `attempt` (0-based) after `code`."""
    refused_for_good = code is not None and code not in RETRYABLE
    delay = refused if refused_for_good else min(cap, base * (2 ** min(attempt, 30)))
    jitter = (rng or random).uniform(0.8, 1.2)
    return delay * jitter
