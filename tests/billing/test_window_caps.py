"""Window caps: at most the cap per occurrence of a window (a night), DST nights included, in quotes too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import PlanFileError, RentalTerms, parse_plan, quote
from tests.billing.plans import total

NIGHT_CAP = """
name = "cafe"
currency = "CNY"
timezone = "{zone}"

[[windows]]
name = "night"
from = "23:00"
to = "07:00"
cap = "15.00"
{extra}
[time.hourly]
"" = "3.00"
"""


def _plan(zone: str = "Asia/Shanghai", extra: str = "", daily: str = "") -> object:
    text = NIGHT_CAP.format(zone=zone, extra=extra)
    if daily:
        text += f'\n[session]\ndaily_cap = "{daily}"\n'
    return parse_plan(text)


def _local(zone: str, *args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


# (zone, local start, hours, expected total in yuan), each worked out by hand at 3.00/h, 15.00 per night
CASES = [
    # 20:00 to 23:00: no night touched, 3 h = 9.00
    ("Asia/Shanghai", (2026, 3, 2, 20, 0), 3, "9.00"),
    # 22:00 to 02:00: 1 h before the night (3.00) + 3 h of night (9.00, under the cap) = 12.00
    ("Asia/Shanghai", (2026, 3, 2, 22, 0), 4, "12.00"),
    # 22:00 to 08:00: 1 h (3.00) + night 8 h (24.00 capped to 15.00) + 1 h (3.00) = 21.00
    ("Asia/Shanghai", (2026, 3, 2, 22, 0), 10, "21.00"),
    # 22:00 to 08:00 two days later (34 h): 3.00 + 15.00 + 16 h day (48.00) + 15.00 + 1 h (3.00) = 84.00
    ("Asia/Shanghai", (2026, 3, 2, 22, 0), 34, "84.00"),
    # Berlin, autumn change (25 Oct 2026): the night 23:00-07:00 lasts 9 h (27.00) and is one cap:
    # 22:00 to 08:00 = 11 h: 3.00 + 15.00 + 3.00 = 21.00
    ("Europe/Berlin", (2026, 10, 24, 22, 0), 11, "21.00"),
    # Berlin, spring change (29 Mar 2026): the night lasts 7 h; from 23:00 for 4 h = 12.00, under the cap
    ("Europe/Berlin", (2026, 3, 28, 23, 0), 4, "12.00"),
    # ... and 5 h 10 min into it: 15.50 capped to 15.00
    ("Europe/Berlin", (2026, 3, 28, 23, 0), 5 + 1 / 6, "15.00"),
]


@pytest.mark.parametrize(("zone", "local", "hours", "expected"), CASES)
def test_night_caps_hand_computed(zone: str, local: tuple[int, ...], hours: float, expected: str) -> None:
    start = _local(zone, *local)
    charges = quote([_plan(zone)], RentalTerms(""), start, start + timedelta(hours=hours))
    assert str(total(charges, "CNY")) == f"{expected} CNY"


def test_a_dst_night_is_one_occurrence_of_its_real_length() -> None:
    start = _local("Europe/Berlin", 2026, 10, 24, 23, 0)
    end = _local("Europe/Berlin", 2026, 10, 25, 7, 0)
    assert end - start == timedelta(hours=9)
    charges = quote([_plan("Europe/Berlin")], RentalTerms(""), start, end)
    (time_line,) = [c for c in charges if c.meter == "time"]
    assert time_line.amount == Decimal("27.00")  # 9 h at 3.00
    (cap_line,) = [c for c in charges if c.meter == "cap"]
    assert cap_line.amount == Decimal("-12.00")
    assert cap_line.description.startswith("night cap 15.00 CNY reached")


def test_the_line_says_how_many_nights_were_capped() -> None:
    start = _local("Asia/Shanghai", 2026, 3, 2, 22, 0)
    charges = quote([_plan()], RentalTerms(""), start, start + timedelta(hours=34))
    (cap_line,) = [c for c in charges if c.meter == "cap"]
    assert "night cap 15.00 CNY reached (2 nights)" in cap_line.description
    assert cap_line.amount == Decimal("-18.00")  # 102.00 of usage (34 h) down to 84.00


def test_window_cap_then_daily_cap() -> None:
    # 22:00 Monday to 22:00 Tuesday, daily cap 40.00. Monday: 2 h (6.00) of which 1 h night.
    # Tuesday: 00:00-07:00 night (21.00; the night is 24.00, 9.00 over its cap, taken off Tuesday) + 15 h
    # (45.00) = 57.00 after the night cap, capped to 40.00 by the day. Total 6.00 + 40.00 = 46.00.
    start = _local("Asia/Shanghai", 2026, 3, 2, 22, 0)
    charges = quote([_plan(daily="40.00")], RentalTerms(""), start, start + timedelta(hours=24))
    assert str(total(charges, "CNY")) == "46.00 CNY"
    (cap_line,) = [c for c in charges if c.meter == "cap"]
    assert "night cap" in cap_line.description and "daily cap" in cap_line.description


def test_a_cap_is_an_amount_with_its_line_in_the_file() -> None:
    with pytest.raises(PlanFileError, match=r"<plan>:10: cap: write amounts as text"):
        parse_plan(NIGHT_CAP.replace('cap = "15.00"', "cap = 15.5").format(zone="UTC", extra=""))
    with pytest.raises(PlanFileError, match=r"<plan>:10: .*cap"):
        parse_plan(NIGHT_CAP.replace('cap = "15.00"', 'cap = "-1"').format(zone="UTC", extra=""))


@settings(max_examples=60, deadline=None)
@given(
    start_minutes=st.integers(0, 7 * 24 * 60),
    length_minutes=st.integers(1, 4 * 24 * 60),
)
def test_capped_total_never_exceeds_uncapped_nor_misses_day_time(
    start_minutes: int, length_minutes: int
) -> None:
    """With the cap, a session costs at most the uncapped price and at least the price of its daytime
    hours; and the difference is exactly what the nights charged beyond 15.00 each."""
    start = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=start_minutes)
    end = start + timedelta(minutes=length_minutes)
    capped = total(quote([_plan("UTC")], RentalTerms(""), start, end), "CNY").minor
    free = parse_plan(NIGHT_CAP.replace('cap = "15.00"\n', "").format(zone="UTC", extra=""))
    uncapped = total(quote([free], RentalTerms(""), start, end), "CNY").minor
    excess = 0
    day = start.date() - timedelta(days=1)
    while day <= end.date():
        night_start = datetime(day.year, day.month, day.day, 23, tzinfo=UTC)
        night_end = night_start + timedelta(hours=8)
        inside = max(timedelta(0), min(end, night_end) - max(start, night_start))
        excess += max(0, inside // timedelta(minutes=1) * 5 - 1500)  # 3.00/h = 5 fen a minute
        day += timedelta(days=1)
    assert capped == uncapped - excess


def test_a_capped_plan_is_rated_from_the_start_even_when_a_checkpoint_is_offered() -> None:
    """Rating from a checkpoint would lose what the night charged before it: a capped plan takes none and
    rates from the start, so the two nights still pay two caps."""
    from billing import rate_from, uniform_usage

    plan = _plan("Europe/Berlin")
    start = _local("Europe/Berlin", 2026, 10, 24, 22, 0)
    end = start + timedelta(hours=35)
    usage = uniform_usage(start, end)
    whole = quote([plan], RentalTerms(""), start, end)
    _, kept = rate_from([plan], RentalTerms(""), start, start + timedelta(hours=5), usage, None, end)
    assert kept is None  # nothing to go on from
    again, _ = rate_from([plan], RentalTerms(""), start, end, usage, kept, end)
    assert str(total(again, "CNY")) == str(total(whole, "CNY")) == "84.00 CNY"
