"""The burn-rate forecast: how long a renter's money and time packs last at the session's current use.

While the packs pay the rental time (for `pack_wall_us` more microseconds), the wallet pays only what
they do not cover (traffic, GPU time, ...), at `during_per_hour`; after that the wallet pays at
`after_per_hour` (the same use plus the rental time the packs paid). Rates are money per hour in minor
units, exact; the answer is whole microseconds (rounded down), or None when the money never runs out.
"""

from __future__ import annotations

import math
from fractions import Fraction

HOUR_US = 3600 * 10**6


def lasts_us(
    money_minor: int | Fraction,
    during_per_hour: Fraction,
    pack_wall_us: int,
    after_per_hour: Fraction,
) -> int | None:
    """Microseconds until the money (and the packs) run out; 0 when the money is gone already while it
    is being spent, None when nothing is ever spent."""
    money = max(Fraction(money_minor), Fraction(0))
    pack_wall_us = max(pack_wall_us, 0)
    spent_with_pack = during_per_hour * pack_wall_us / HOUR_US
    if during_per_hour > 0 and spent_with_pack >= money:
        return math.floor(money * HOUR_US / during_per_hour)
    if after_per_hour <= 0:
        return None
    return pack_wall_us + math.floor((money - spent_with_pack) * HOUR_US / after_per_hour)


def describe(micros: int | None) -> str:
    """The sentence "at your current use your balance lasts 37 min" (or 2 h 05 min, 25 s; never runs out)."""
    if micros is None:
        return "at your current use your balance never runs out"
    seconds = micros // 10**6
    hours, minutes = divmod(seconds // 60, 60)
    text = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min" if minutes else f"{seconds} s"
    return f"at your current use your balance lasts {text}"
