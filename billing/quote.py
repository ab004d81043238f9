"""Quotes: a planned rental priced by the same engine that bills it, with usage spread evenly over time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from billing.charges import Charge
from billing.meters import Usage
from billing.plan import PricePlan, RentalTerms
from billing.rating import rate

_MICRO = timedelta(microseconds=1)


def uniform_usage(
    start: datetime,
    end: datetime,
    *,
    rx_bytes: int = 0,
    tx_bytes: int = 0,
    busy_cores: int = 0,
    memory_bytes: int = 0,
    gpus: Mapping[str, int] | None = None,
) -> Callable[[datetime, datetime], Usage]:
    """Usage of a machine that reports all along from `start` to `end`: every stretch is covered, totals
    are spread in proportion to time (cut so that the pieces add up to the totals exactly), `busy_cores`
    cores busy and `memory_bytes` used throughout, and `gpus` (model -> count) attached throughout."""
    span = (end - start) // _MICRO

    def share(total: int, moment: datetime) -> int:
        return total * ((moment - start) // _MICRO) // span if span else 0

    def usage_of(a: datetime, b: datetime) -> Usage:
        micros = (b - a) // _MICRO
        return Usage(
            covered_us=micros,
            net_rx_bytes=share(rx_bytes, b) - share(rx_bytes, a),
            net_tx_bytes=share(tx_bytes, b) - share(tx_bytes, a),
            cpu_busy_us=busy_cores * micros,
            memory_byte_us=memory_bytes * micros,
            gpu_us={model: count * micros for model, count in (gpus or {}).items()},
        )

    return usage_of


def quote(
    versions: Iterable[PricePlan], terms: RentalTerms, start: datetime, end: datetime, **expected: Any
) -> list[Charge]:
    """The charges of renting from `start` to `end` with the expected usage, given as uniform_usage's
    keyword arguments (rx_bytes, tx_bytes, busy_cores, memory_bytes, gpus)."""
    return rate(versions, terms, start, end, uniform_usage(start, end, **expected))
