"""Billing cycles: where an account's invoice periods start and end.

A cycle is hourly, daily, weekly or monthly, anchored to an instant of the account (usually when it was
opened).

Without a time zone (as before time zones existed) the boundaries keep the anchor's time of day in UTC: a
daily cycle anchored at 2026-01-15 09:30 UTC has boundaries every day at 09:30 UTC; a monthly one on the
15th of every month at 09:30.

In a time zone (an IANA zone such as Asia/Shanghai) the boundaries are local midnights: a daily cycle ends
every local midnight, a weekly one at the midnight that starts the anchor's local weekday, a monthly one at
the midnight that starts the anchor's local day of the month. Local dates are turned into instants with the
time zone database, so a local day across a DST change lasts 23 or 25 hours; a midnight that does not exist
(a zone that springs forward at 00:00) is read as the first instant of that day (PEP 495, fold=0). An
hourly cycle is 60 minutes from the anchor in every zone.

Monthly, either way: an anchor on the 29th to 31st falls on the month's last day in shorter months
(31 Jan -> 28 Feb -> 31 Mar).

`FixedPeriods` is the collector's own period for accounts without a cycle: a length aligned to the Unix
epoch in UTC; in a time zone, a whole number of days is counted in local days from 1970-01-01 instead, so
a one-day period ends at local midnight.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from billing.calendar import local_instant
from billing.errors import BillingError

CYCLES = ("hourly", "daily", "weekly", "monthly")
_FIXED = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
_LOCAL_DAYS = {"daily": 1, "weekly": 7}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
DAY = timedelta(days=1)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The instant (UTC) at which `day` starts in `zone`: its local midnight, or the first instant after a
    gap when the zone skips midnight."""
    return local_instant(day, time(0), zone)


@dataclass(frozen=True, slots=True)
class Cycle:
    kind: str
    anchor: datetime  # timezone-aware
    zone: tzinfo | None = None  # None: the anchor's time of day, in UTC

    def __post_init__(self) -> None:
        if self.kind not in CYCLES:
            raise BillingError(f"cycle: {self.kind!r} is not one of {', '.join(CYCLES)}")
        if self.anchor.tzinfo is None:
            raise BillingError("cycle: the anchor needs a time zone")

    @property
    def _local(self) -> bool:
        return self.zone is not None and self.kind != "hourly"

    def boundary(self, index: int) -> datetime:
        """The index-th boundary from the anchor (0 = the anchor, or the local midnight that starts its
        day; negative: before it)."""
        if not self._local:
            if self.kind in _FIXED:
                return self.anchor + index * _FIXED[self.kind]
            year, month, day = _add_months(self.anchor.date(), index)
            return self.anchor.replace(year=year, month=month, day=day)
        assert self.zone is not None
        first = self.anchor.astimezone(self.zone).date()
        if self.kind in _LOCAL_DAYS:
            return local_midnight(first + index * _LOCAL_DAYS[self.kind] * DAY, self.zone)
        return local_midnight(date(*_add_months(first, index)), self.zone)

    def _index_at_or_before(self, moment: datetime) -> int:
        if not self._local and self.kind in _FIXED:
            return (moment - self.anchor) // _FIXED[self.kind]
        # An estimate from the calendar (local dates in a zone), then corrected by at most a step or two.
        here = moment.astimezone(self.zone or UTC).date()
        there = self.anchor.astimezone(self.zone or UTC).date()
        if self.kind == "monthly":
            index = (here.year - there.year) * 12 + here.month - there.month
        else:
            index = (here - there).days // _LOCAL_DAYS[self.kind]
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


def _add_months(start: date, months: int) -> tuple[int, int, int]:
    """(year, month, day) `months` after `start`, the day clamped to the month's last."""
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1])


@dataclass(frozen=True, slots=True)
class FixedPeriods:
    """Periods of `length` aligned to the Unix epoch; in `zone`, whole days start at local midnights."""

    length: timedelta
    zone: tzinfo | None = None

    def __post_init__(self) -> None:
        if self.length <= timedelta(0):
            raise BillingError("period: the length must be positive")

    @property
    def _local_days(self) -> int:
        """The length in local days, or 0 when periods are counted in UTC."""
        whole = self.zone is not None and self.length % DAY == timedelta(0)
        return self.length // DAY if whole else 0

    def _first_day(self, moment: datetime, days: int) -> date:
        """The local date that starts the period holding `moment`."""
        assert self.zone is not None
        elapsed = (moment.astimezone(self.zone).date() - _EPOCH_DAY).days
        return _EPOCH_DAY + (elapsed - elapsed % days) * DAY

    def at_or_before(self, moment: datetime) -> datetime:
        """The last boundary not after `moment`."""
        if days := self._local_days:
            assert self.zone is not None
            return local_midnight(self._first_day(moment, days), self.zone)
        return EPOCH + (moment - EPOCH) // self.length * self.length

    def after(self, moment: datetime) -> datetime:
        """The first boundary strictly after `moment`."""
        if days := self._local_days:
            assert self.zone is not None
            return local_midnight(self._first_day(moment, days) + days * DAY, self.zone)
        return self.at_or_before(moment) + self.length
