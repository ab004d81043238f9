"""Reconnect delays, as pure functions: exponential backoff with ±20 % jitter, or the server's retry hint.

A collector over its rate limit says when to come back: gRPC's `grpc-retry-pushback-ms` trailing metadata
(gRFC A6; negative means "do not retry"), or a google.rpc.RetryInfo in the status details
(`grpc-status-details-bin`, as OpenTelemetry's exporters read it). The agent then waits at least that long.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import grpc

# Longest wait between reconnects while the collector is down and nothing waits to be sent.
MAX_DELAY_S = 15.0
# Longest wait while reports wait in the spool: the backlog starts draining within ~2 s of the collector's
# return. Thousands of agents do not come back at once: each waits a random 50-100 % of the delay, and
# the collector refuses streams over its admission rate with a spread retry hint (followed instead).
BACKLOG_MAX_DELAY_S = 2.0
# After a refusal (and the longest any server hint is followed).
REFUSED_DELAY_S = 300.0

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
PUSHBACK_KEY = "grpc-retry-pushback-ms"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
_RETRY_INFO = "google.rpc.RetryInfo"
Metadata = Sequence[tuple[str, str | bytes]]


def next_delay(
    attempt: int,
    code: grpc.StatusCode | None,
    *,
    hint: float | None = None,
    base: float = 0.5,
    cap: float = MAX_DELAY_S,
    refused: float = REFUSED_DELAY_S,
    rng: random.Random | None = None,
    backlog: bool = False,
) -> float:
    """Seconds to wait before reconnect attempt number `attempt` (0-based) after `code` (None: a local
    failure, retried like an outage). `hint`: the server's retry hint in seconds (negative: do not retry);
    followed, up to `refused`, with 0-20 % jitter added so that agents told the same do not return at once.
    `backlog`: reports wait to be sent, so retry at least every BACKLOG_MAX_DELAY_S (full jitter: 50-100 %
    of the delay, never more than the cap).
    """
    uniform = (rng or random).uniform
    if hint is not None:
        return refused * uniform(0.8, 1.2) if hint < 0 else min(hint, refused) * uniform(1.0, 1.2)
    refused_for_good = code is not None and code not in RETRYABLE
    if refused_for_good:
        return refused * uniform(0.8, 1.2)
    if backlog:
        return min(BACKLOG_MAX_DELAY_S, cap, base * (2 ** min(attempt, 30))) * uniform(0.5, 1.0)
    return min(cap, base * (2 ** min(attempt, 30))) * uniform(0.8, 1.2)


def retry_hint(trailing_metadata: Metadata | None) -> float | None:
    """The server's retry hint in seconds from a call's trailing metadata, or None when it gave none."""
    for key, value in trailing_metadata or ():
        if key == PUSHBACK_KEY:
            try:
                return int(value) / 1000
            except ValueError:
                return None
    for key, value in trailing_metadata or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            return _retry_info_delay(value)
    return None


def _retry_info_delay(status: bytes) -> float | None:
    """RetryInfo.retry_delay from a serialized google.rpc.Status (details = field 3, each an Any), read
    from the wire format so that the agent needs no googleapis package."""
    try:
        for number, any_bytes in _fields(status):
            if number != 3:
                continue
            parts = dict(_fields(any_bytes))  # Any: 1 type_url, 2 value
            if parts.get(1, b"").decode(errors="replace").endswith(_RETRY_INFO):
                delay = dict(_fields(parts.get(2, b""))).get(1, b"")  # RetryInfo: 1 retry_delay (Duration)
                duration = dict(_varints(delay))  # Duration: 1 seconds, 2 nanos
                return duration.get(1, 0) + duration.get(2, 0) / 1e9
    except (IndexError, ValueError):
        return None
    return None


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _records(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field; varints and length-delimited ones only."""
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, at = _read_varint(data, at)
            yield number, wire_type, value
        elif wire_type == 2:
            length, at = _read_varint(data, at)
            if at + length > len(data):
                raise ValueError("field runs past the end")
            yield number, wire_type, data[at : at + length]
            at += length
        else:
            raise ValueError(f"wire type {wire_type} not expected here")


def _fields(data: bytes) -> Iterator[tuple[int, bytes]]:
    return ((n, v) for n, t, v in _records(data) if t == 2 and isinstance(v, bytes))


def _varints(data: bytes) -> Iterator[tuple[int, int]]:
    return ((n, v) for n, t, v in _records(data) if t == 0 and isinstance(v, int))
