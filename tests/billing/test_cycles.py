"""Billing cycles against hand-worked calendars."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from billing.cycles import Cycle, FixedPeriods
from billing.errors import BillingError

ANCHOR = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


def test_monthly_cycles_keep_the_anchor_day_or_the_months_last() -> None:
    cycle = Cycle("monthly", ANCHOR)
    assert [cycle.boundary(i).date().isoformat() for i in range(4)] == [
        "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30",
    ]  # fmt: skip
    assert cycle.after(datetime(2026, 2, 28, 9, 30, tzinfo=UTC)) == datetime(2026, 3, 31, 9, 30, tzinfo=UTC)
    assert cycle.at_or_before(datetime(2026, 2, 28, 9, 30, tzinfo=UTC)) == datetime(
        2026, 2, 28, 9, 30, tzinfo=UTC
    )
    assert cycle.at_or_before(datetime(2026, 2, 28, 9, 29, tzinfo=UTC)) == ANCHOR
    assert cycle.after(datetime(2025, 12, 1, tzinfo=UTC)) == datetime(2025, 12, 31, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "moment", "after"),
    [
        ("hourly", datetime(2026, 3, 1, 10, 29, tzinfo=UTC), datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
        ("daily", datetime(2026, 3, 1, 9, 30, tzinfo=UTC), datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        ("weekly", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 7, 9, 30, tzinfo=UTC)),  # Saturdays
    ],
)
def test_fixed_cycles(kind: str, moment: datetime, after: datetime) -> None:
    assert Cycle(kind, ANCHOR).after(moment) == after


def test_bad_cycles() -> None:
    with pytest.raises(BillingError, match="yearly"):
        Cycle("yearly", ANCHOR)
    with pytest.raises(BillingError, match="time zone"):
        Cycle("daily", datetime(2026, 1, 1))


# Time zones: boundaries are local midnights, worked out by hand from the zones' offsets.
SHANGHAI = ZoneInfo("Asia/Shanghai")  # UTC+8, no DST
BERLIN = ZoneInfo("Europe/Berlin")  # CET (UTC+1); CEST (UTC+2) from the last Sunday of March 01:00 UTC
TOKYO = ZoneInfo("Asia/Tokyo")  # UTC+9, no DST


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[arg-type, misc]


def test_a_monthly_cycle_in_shanghai_covers_the_local_month() -> None:
    # Anchored on the 1st (here given at 09:30 local: a zone's boundaries are its midnights).
    cycle = Cycle("monthly", datetime(2026, 1, 1, 9, 30, tzinfo=SHANGHAI), SHANGHAI)
    may = utc(2026, 5, 15, 12, 0)
    # May 1 00:00 and June 1 00:00 in Shanghai are 16:00 UTC the day before.
    assert cycle.at_or_before(may) == utc(2026, 4, 30, 16, 0)
    assert cycle.after(may) == utc(2026, 5, 31, 16, 0)
    # The last instant of May in Shanghai is still in May's period; 16:00 UTC on May 31 starts June's.
    assert cycle.after(utc(2026, 5, 31, 15, 59, 59)) == utc(2026, 5, 31, 16, 0)
    assert cycle.at_or_before(utc(2026, 5, 31, 16, 0)) == utc(2026, 5, 31, 16, 0)
    # The same instants without a zone fall in UTC months anchored at 09:30 local = 01:30 UTC.
    assert Cycle("monthly", datetime(2026, 1, 1, 9, 30, tzinfo=SHANGHAI)).after(may) == utc(2026, 6, 1, 1, 30)


def test_a_daily_cycle_in_berlin_is_25_hours_on_the_last_sunday_of_october() -> None:
    cycle = Cycle("daily", utc(2026, 1, 10, 12, 0), BERLIN)
    sunday = utc(2026, 10, 25, 12, 0)  # clocks go back from 03:00 CEST to 02:00 CET that morning
    start, end = cycle.at_or_before(sunday), cycle.after(sunday)
    assert (start, end) == (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0))  # 00:00 CEST, 00:00 CET
    assert end - start == timedelta(hours=25)
    assert cycle.after(end) - end == timedelta(hours=24)


def test_a_daily_cycle_in_berlin_is_23_hours_on_the_last_sunday_of_march() -> None:
    cycle = Cycle("daily", utc(2026, 1, 10, 12, 0), BERLIN)
    sunday = utc(2026, 3, 29, 12, 0)  # clocks go forward from 02:00 CET to 03:00 CEST that morning
    start, end = cycle.at_or_before(sunday), cycle.after(sunday)
    assert (start, end) == (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0))  # 00:00 CET, 00:00 CEST
    assert end - start == timedelta(hours=23)
    assert cycle.at_or_before(start) == start and cycle.after(start - timedelta(microseconds=1)) == start


def test_a_monthly_anchor_on_the_31st_in_a_local_zone() -> None:
    # 15:00 UTC on January 30 is already midnight starting January 31 in Tokyo: the local day counts.
    anchor = utc(2026, 1, 30, 15, 0)
    cycle = Cycle("monthly", anchor, TOKYO)
    assert [cycle.boundary(i) for i in range(-1, 4)] == [
        utc(2025, 12, 30, 15, 0),  # December 31, 00:00 in Tokyo
        anchor,  # January 31
        utc(2026, 2, 27, 15, 0),  # February 28 (the month's last day)
        utc(2026, 3, 30, 15, 0),  # March 31
        utc(2026, 4, 29, 15, 0),  # April 30
    ]
    assert cycle.after(utc(2026, 2, 27, 14, 59)) == utc(2026, 2, 27, 15, 0)
    assert cycle.at_or_before(utc(2026, 3, 30, 14, 59)) == utc(2026, 2, 27, 15, 0)
    # Without the zone the anchor is January 30 in UTC, and so every boundary's day.
    assert Cycle("monthly", anchor).boundary(1) == utc(2026, 2, 28, 15, 0)


def test_a_monthly_cycle_in_berlin_follows_dst() -> None:
    cycle = Cycle("monthly", utc(2026, 1, 1, 0, 0), BERLIN)
    march = utc(2026, 3, 15, 0, 0)
    # March 1 00:00 CET = 23:00 UTC; April 1 00:00 CEST = 22:00 UTC.
    assert cycle.at_or_before(march) == utc(2026, 2, 28, 23, 0) and cycle.after(march) == utc(2026, 3, 31, 22)


def test_a_weekly_cycle_keeps_the_anchors_local_weekday() -> None:
    # Sunday 2026-02-01 20:00 UTC is Monday 04:00 in Shanghai: the weeks start on Mondays at local midnight.
    cycle = Cycle("weekly", utc(2026, 2, 1, 20, 0), SHANGHAI)
    assert cycle.after(utc(2026, 2, 4, 0, 0)) == utc(2026, 2, 8, 16, 0)  # Monday 9 February 00:00
    assert cycle.at_or_before(utc(2026, 2, 4, 0, 0)) == utc(2026, 2, 1, 16, 0)  # Monday 2 February 00:00


def test_an_hourly_cycle_is_sixty_minutes_in_any_zone() -> None:
    cycle = Cycle("hourly", utc(2026, 10, 25, 0, 30), BERLIN)
    assert cycle.after(utc(2026, 10, 25, 1, 0)) == utc(2026, 10, 25, 1, 30)


def test_a_zone_that_skips_midnight_starts_its_day_after_the_gap() -> None:
    # Havana springs forward at 00:00 (to 01:00) on Sunday 2026-03-08: that day starts at 01:00 CDT.
    havana = ZoneInfo("America/Havana")
    cycle = Cycle("daily", utc(2026, 1, 1, 12, 0), havana)
    start, end = cycle.at_or_before(utc(2026, 3, 8, 12, 0)), cycle.after(utc(2026, 3, 8, 12, 0))
    assert (start, end) == (utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0))  # 01:00 CDT (UTC-4), 00:00 CDT
    assert end - start == timedelta(hours=23)


@pytest.mark.parametrize(
    ("length", "zone", "moment", "bounds"),
    [
        # Without a zone: multiples of the length since the epoch, in UTC (as before).
        (timedelta(days=1), None, utc(2026, 5, 1, 3, 0), (utc(2026, 5, 1), utc(2026, 5, 2))),
        (timedelta(hours=1), SHANGHAI, utc(2026, 5, 1, 3, 20), (utc(2026, 5, 1, 3), utc(2026, 5, 1, 4))),
        # Whole days in a zone: local midnights.
        (timedelta(days=1), SHANGHAI, utc(2026, 5, 1, 3, 0), (utc(2026, 4, 30, 16), utc(2026, 5, 1, 16))),
        (timedelta(days=1), BERLIN, utc(2026, 10, 25, 12), (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))),
        # Weeks from Thursday 1970-01-01, local: Thursday 2026-04-30 00:00 in Shanghai.
        (timedelta(days=7), SHANGHAI, utc(2026, 5, 3), (utc(2026, 4, 29, 16), utc(2026, 5, 6, 16))),
    ],
)
def test_fixed_periods(
    length: timedelta, zone: ZoneInfo | None, moment: datetime, bounds: tuple[datetime, datetime]
) -> None:
    periods = FixedPeriods(length, zone)
    assert (periods.at_or_before(moment), periods.after(moment)) == bounds
    assert periods.after(bounds[0]) == bounds[1] and periods.at_or_before(bounds[0]) == bounds[0]
