"""Billing cycles: where an account's invoice periods start and end.

A cycle is hourly, daily, weekly or monthly, anchored to an instant of the account (usually when it was
opened): a daily cycle anchored at 2026-01-15 09:30 UTC has boundaries every day at 09:30 UTC; a monthly
one on the 15th of every month at 09:30. An anchor on the 29th to 31st falls on the month's last day in
shorter months (31 Jan -> 28 Feb -> 31 Mar). All in UTC.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from billing.errors import BillingError

CYCLES = ("hourly", "daily", "weekly", "monthly")
_FIXED = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class Cycle:
    kind: str
    anchor: datetime  # timezone-aware

    def __post_init__(self) -> None:
        if self.kind not in CYCLES:
            raise BillingError(f"cycle: {self.kind!r} is not one of {', '.join(CYCLES)}")
        if self.anchor.tzinfo is None:
            raise BillingError("cycle: the anchor needs a time zone")

    def boundary(self, index: int) -> datetime:
        """The index-th boundary from the anchor (0 = the anchor; negative: before it)."""
        if self.kind in _FIXED:
            return self.anchor + index * _FIXED[self.kind]
        months = self.anchor.year * 12 + self.anchor.month - 1 + index
        year, month = divmod(months, 12)
        day = min(self.anchor.day, calendar.monthrange(year, month + 1)[1])
        return self.anchor.replace(year=year, month=month + 1, day=day)

    def _index_at_or_before(self, moment: datetime) -> int:
        if self.kind in _FIXED:
            return (moment - self.anchor) // _FIXED[self.kind]
        index = (moment.year - self.anchor.year) * 12 + moment.month - self.anchor.month
        while self.boundary(index) > moment:
            index -= 1
        while self.boundary(index + 1) <= moment:
            index += 1
        return index

    def at_or_before(self, moment: datetime) -> datetime:
        """The last boundary not after `moment`."""
        return self.boundary(self._index_at_or_before(moment))

    def after(self, moment: datetime) -> datetime:
        """The first boundary strictly after `moment`."""
        return self.boundary(self._index_at_or_before(moment) + 1)
