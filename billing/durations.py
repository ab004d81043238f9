"""Durations written as text: "90", "90s", "500ms", "15m", "1h", "1d", "1w" (no unit: seconds)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_MICROSECONDS = {"ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000,
                 "w": 604_800_000_000}  # fmt: skip


def parse_duration_us(text: str) -> int:
    """Whole microseconds in `text`; ValueError with a sentence when it is not a positive duration."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30s, 15m, 1h or 1d")
    try:
        micros = Decimal(match.group(1)) * _MICROSECONDS[match.group(2) or "s"]
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a duration") from None
    if micros <= 0 or micros != micros.to_integral_value():
        raise ValueError(f"{text!r} must be a positive whole number of microseconds")
    return int(micros)


def parse_duration(text: str) -> timedelta:
    return timedelta(microseconds=parse_duration_us(text))
