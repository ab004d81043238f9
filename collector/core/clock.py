"""Conversions between aware UTC datetimes and integer microseconds since the Unix epoch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}")
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(micros: int) -> datetime:
    """The aware UTC instant `micros` microseconds after the Unix epoch (to_us's inverse)."""
    return EPOCH + timedelta(microseconds=micros)


class SteadyClock:
    """The collector's "now": the wall clock read once, at start, advanced by a steady clock.

    Session starts and stops, invoice periods and plausibility checks then never jump when the system
    clock is stepped (NTP, an admin): billable time is neither created nor erased, and a session can
    never end before it started. NTP's gradual corrections still apply (the steady clock is slewed with
    the wall clock). A step is logged; restarting the collector re-anchors it.
    """

    def __init__(
        self,
        wall_ns: Callable[[], int] = time.time_ns,
        steady_ns: Callable[[], int] | None = None,
        max_drift_ns: int = 2_000_000_000,
    ) -> None:
        self._wall_ns = wall_ns
        self._steady_ns = steady_ns or _boottime_ns
        self._anchor_wall = wall_ns()
        self._anchor_steady = self._steady_ns()
        self._max_drift = max_drift_ns
        self._reported_drift = 0

    def __call__(self) -> datetime:
        now_ns = self._anchor_wall + (self._steady_ns() - self._anchor_steady)
        drift = self._wall_ns() - now_ns
        if abs(drift - self._reported_drift) > self._max_drift:
            self._reported_drift = drift
            logger.warning("the system clock is %+.1f s from the collector's clock (stepped?); the "
                           "collector keeps its own; restart it to re-anchor", drift / 1e9)  # fmt: skip
        return EPOCH + timedelta(microseconds=now_ns // 1000)


def _boottime_ns() -> int:
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime_ns(clock) if clock is not None else time.monotonic_ns()
