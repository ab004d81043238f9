"""Window caps: at most a given amount charged inside one occurrence of a time window.

A window with a cap (say night = every day 23:00-07:00, cap = "15.00") limits what the usage charges of
one session come to between each occurrence's start and end: a rental across two nights pays at most two
caps, and the time between the nights is charged in full. An occurrence is one local stretch of the
window, turned into UTC with the plan's time zone (billing/calendar.py), so the night of a DST change is
7 or 9 hours long and is still one occurrence with one cap.

The rating cuts a session at the edges of every window (billing/rating.py), so each segment lies inside
at most one occurrence of a capped window (the one of highest priority where capped windows overlap) and
each charge knows its amount per (occurrence, local day). Window caps apply first, to the exact amounts:
the excess of an occurrence over its cap is taken off its latest local days first (what was charged after
the cap was reached); daily and session caps then apply to what is left (billing/adjustments.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from billing.calendar import Window


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a capped window, as UTC [start, end), with the window's cap."""

    window: str
    start: datetime
    end: datetime
    cap: Decimal


def capped_occurrences(
    ranked: Sequence[Window], tz: tzinfo, first: date, last: date, holidays: frozenset[date]
) -> list[Occurrence]:
    """The occurrences of the capped windows among `ranked` (highest priority first) that start on local
    dates first..last, in the order of `ranked`."""
    return [
        Occurrence(window.name, start, end, window.cap)
        for window in ranked
        if window.cap is not None
        for start, end in window.intervals(tz, first, last, holidays)
    ]


@dataclass(frozen=True, slots=True)
class WindowCapping:
    """Amounts per local day after window caps, and what was capped (window name -> (cap, occurrences))."""

    days: dict[date | None, Fraction]
    capped: dict[str, tuple[Decimal, int]]

    def reasons(self, money: Any) -> list[str]:
        """The sentences for the cap line, e.g. "night cap 15.00 EUR reached (2 nights)"; `money(amount)`
        writes an amount."""
        return [
            f"{name} cap {money(cap)} reached" + (f" ({count} {name}s)" if count > 1 else "")
            for name, (cap, count) in self.capped.items()
        ]


def cap_windows(
    days: dict[date | None, Fraction], slots: Iterable[tuple[Any, date | None, Fraction]]
) -> WindowCapping:
    """`days` (exact usage amounts per local day) with the excess of each capped occurrence over its cap
    taken off, latest day first. `slots`: (occurrence or None, day, amount) from every usage charge."""
    per_occurrence: dict[Occurrence, dict[date | None, Fraction]] = {}
    for occurrence, day, amount in slots:
        if isinstance(occurrence, Occurrence):
            by_day = per_occurrence.setdefault(occurrence, {})
            by_day[day] = by_day.get(day, Fraction(0)) + amount
    result = dict(days)
    capped: dict[str, tuple[Decimal, int]] = {}
    for occurrence, by_day in per_occurrence.items():
        excess = sum(by_day.values(), Fraction(0)) - Fraction(occurrence.cap)
        if excess <= 0:
            continue
        _, count = capped.get(occurrence.window, (occurrence.cap, 0))
        capped[occurrence.window] = (occurrence.cap, count + 1)
        for day in sorted(by_day, key=_day_order, reverse=True):
            taken = min(excess, by_day[day])
            result[day] = result.get(day, Fraction(0)) - taken
            excess -= taken
    return WindowCapping(result, capped)


def _day_order(day: date | None) -> date:
    return day or date.min
