"""Time-of-day and day-of-week windows in a plan's time zone, holidays, and local days.

Windows are written in local wall-clock time ("22:00" to "06:00" on "mon-fri") and turned into UTC
instants date by date with the IANA time zone database, so they stay right across DST changes: the night
of the autumn change lasts one hour longer, the spring one an hour shorter, and a local day lasts 23, 24
or 25 hours. A local time that does not exist (inside the spring gap) is read as Python's zoneinfo does
(PEP 495): shifted forward by the gap; a repeated local time means its first occurrence.

A window that ends at or before its start time runs past midnight and belongs to the day it starts on.
A window with no times covers whole days. A date listed as a holiday matches windows that name
"holidays" (as well as windows that name its weekday).

Where windows overlap, the one with the higher priority applies. A new plan document may not contain two
windows of the same priority that can cover the same local time (`first_overlap`); a holiday may fall on
any weekday, so a "holidays" window is compared on every day. Plans stored before that rule keep their
meaning: among equal priorities the window written first applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.errors import InvalidPlan

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {"weekdays": range(0, 5), "weekends": range(5, 7), "all": range(0, 7), "daily": range(0, 7)}


def zone(name: str) -> tzinfo:
    try:
        return UTC if name.upper() == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidPlan(
            f"timezone: {name!r} is not an IANA time zone such as Europe/Berlin or UTC"
        ) from None


def parse_days(items: Iterable[str]) -> tuple[frozenset[int], bool]:
    """Weekday numbers (0 = Monday) and whether holidays match, from names such as "mon-fri", "sat",
    "weekends", "holidays"."""
    days: set[int] = set()
    holidays = False
    for item in items:
        word = str(item).strip().lower()
        if word == "holidays":
            holidays = True
        elif word in _DAY_GROUPS:
            days.update(_DAY_GROUPS[word])
        elif "-" in word:
            first, _, last = word.partition("-")
            if first not in WEEKDAYS or last not in WEEKDAYS:
                raise InvalidPlan(f"days: {item!r} is not a range of weekdays such as mon-fri")
            a, b = WEEKDAYS.index(first), WEEKDAYS.index(last)
            days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif word in WEEKDAYS:
            days.add(WEEKDAYS.index(word))
        else:
            raise InvalidPlan(
                f"days: {item!r} is not a weekday (mon..sun), weekdays, weekends, all or holidays"
            )
    return frozenset(days), holidays


def parse_clock(text: str, what: str) -> time:
    try:
        hours, minutes = str(text).strip().split(":")
        if len(minutes) != 2:
            raise ValueError
        if int(hours) == 24 and int(minutes) == 0:
            return time(0, 0)
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidPlan(f"{what}: {text!r} is not a local time such as 06:00 or 22:30") from None


@dataclass(frozen=True, slots=True)
class Window:
    """A named recurring stretch of local time, e.g. night = every day 22:00-06:00."""

    name: str
    days: frozenset[int]
    holidays: bool = False
    start: time = time(0, 0)
    end: time = time(0, 0)
    multiplier: Decimal | None = None  # inside the window, window-less prices are multiplied by this
    priority: int = 0  # where windows overlap, the higher priority applies
    cap: Decimal | None = None  # at most this much is charged inside one occurrence (billing/window_caps.py)

    def applies_on(self, day: date, holiday_dates: frozenset[date]) -> bool:
        return day.weekday() in self.days or (self.holidays and day in holiday_dates)

    def intervals(
        self, tz: tzinfo, first: date, last: date, holiday_dates: frozenset[date]
    ) -> list[tuple[datetime, datetime]]:
        """The window's occurrences that start on local dates first..last, as UTC [start, end)."""
        found = []
        day = first
        while day <= last:
            if self.applies_on(day, holiday_dates):
                end_day = day if self.end > self.start else day + timedelta(days=1)
                found.append((local_instant(day, self.start, tz), local_instant(end_day, self.end, tz)))
            day += timedelta(days=1)
        return found

    def describe(self) -> str:
        names = [WEEKDAYS[d] for d in sorted(self.days)]
        days = "every day" if len(names) == 7 else ",".join(names)
        if self.holidays:
            days += (" and " if names else "") + "holidays"
        hours = "all day" if self.start == self.end == time(0) else f"{self.start:%H:%M}-{self.end:%H:%M}"
        ranked = f", priority {self.priority}" if self.priority else ""
        return f"{self.name} ({days}, {hours}{ranked})"

    def weekly_minutes(self) -> list[tuple[int, int]]:
        """The window's occurrences in a week of local wall-clock minutes from Monday 00:00, [start, end);
        an end past the week's end (Sunday night) wraps to Monday. Holidays count as every day."""
        days = range(7) if self.holidays else sorted(self.days)
        start = self.start.hour * 60 + self.start.minute
        length = (self.end.hour * 60 + self.end.minute - start) % _DAY_MINUTES or _DAY_MINUTES
        return [(day * _DAY_MINUTES + start, day * _DAY_MINUTES + start + length) for day in days]


_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES


def overlap(a: Window, b: Window) -> bool:
    """Whether two windows can cover the same local time (touching end to start is no overlap)."""
    return any(
        s1 < e2 + shift and s2 + shift < e1
        for s1, e1 in a.weekly_minutes()
        for s2, e2 in b.weekly_minutes()
        for shift in (-_WEEK_MINUTES, 0, _WEEK_MINUTES)
    )


def first_overlap(windows: Sequence[Window]) -> tuple[int, int] | None:
    """Indices (i < j) of the first two windows of the same priority that overlap, or None."""
    for j, later in enumerate(windows):
        for i, earlier in enumerate(windows[:j]):
            if earlier.priority == later.priority and overlap(earlier, later):
                return i, j
    return None


def local_instant(day: date, clock: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def local_midnights(start: datetime, end: datetime, tz: tzinfo) -> list[datetime]:
    """Local midnights strictly inside (start, end), in UTC."""
    found = []
    day = local_date(start, tz) + timedelta(days=1)
    while (midnight := local_instant(day, time(0), tz)) < end:
        if midnight > start:
            found.append(midnight)
        day += timedelta(days=1)
    return found
