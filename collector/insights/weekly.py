"""Time laid out by hour of the week in a time zone: the grid every behaviour profile is kept on.

Hour of week 0 is Monday 00:00-01:00 local time, 167 is Sunday 23:00-24:00. Amounts are microseconds of
wall-clock time (exact integers). A DST change happens at a local hour boundary, so a piece never spans
two offsets; the spring hour that does not exist gets nothing, the autumn hour that repeats gets both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo

from collector.core.clock import to_us

HOURS_OF_WEEK = 168
HOUR_US = 3_600_000_000
# Night for profiles, offers and evidence: 23:00-07:00 local time.
NIGHT_HOURS = frozenset({23, 0, 1, 2, 3, 4, 5, 6})
# Session length buckets: upper bounds in minutes (the last bucket is open).
LENGTH_BOUNDS_MIN = (15, 60, 180, 480, 1440)
LENGTH_LABELS = ("<15m", "15m-1h", "1h-3h", "3h-8h", "8h-24h", ">=24h")


def by_hour_of_week(start: datetime, end: datetime, zone: tzinfo) -> Iterator[tuple[int, int]]:
    """(hour of week, microseconds) pieces of [start, end) in `zone`, in time order."""
    moment = start
    while moment < end:
        local = moment.astimezone(zone)
        into_hour = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
        piece_end = min(end, moment + (timedelta(hours=1) - into_hour))
        yield local.weekday() * 24 + local.hour, to_us(piece_end) - to_us(moment)
        moment = piece_end


def night_us(start: datetime, end: datetime, zone: tzinfo) -> int:
    """Microseconds of [start, end) between 23:00 and 07:00 local time."""
    return sum(us for hour, us in by_hour_of_week(start, end, zone) if hour % 24 in NIGHT_HOURS)


def length_bucket(duration_us: int) -> int:
    """Index into LENGTH_LABELS of a session lasting `duration_us`."""
    minutes = duration_us / 60_000_000
    for index, bound in enumerate(LENGTH_BOUNDS_MIN):
        if minutes < bound:
            return index
    return len(LENGTH_BOUNDS_MIN)


def week_of(moment: datetime, zone: tzinfo) -> date:
    """The local Monday starting the week of `moment`."""
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())
