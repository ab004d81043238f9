"""New plan documents: numbers within their limits and windows that do not overlap, refused with the file
and line; stored documents keep their meaning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from billing import RentalTerms, build_lines, invoice_total, quote
from billing.plan_file import PlanFileError, parse_plan

BERLIN = ZoneInfo("Europe/Berlin")

CAFE = """\
name = "cafe"
currency = "EUR"
timezone = "Europe/Berlin"

[session]
minimum_charge = "1.00"
cap = "25.00"
daily_cap = "12.00"

[[windows]]
name = "night"
from = "22:00"
to = "06:00"
multiplier = "0.5"

[[prices]]
meter = "time"
price = "1.20"

[[prices]]
meter = "traffic_out"
tiers = [{ up_to = "10", price = "0.09", flat = "1.00" }, { price = "0.05" }]

[[prices]]
meter = "traffic_in"
package = "10"
price = "0.50"
free = "5"

[service_levels]
premium = "1.5"

[member_discounts]
gold = "10"

[coupons.WELCOME]
amount = "5.00"

[coupons.SPRING]
percent = "20"

[tax]
name = "VAT"
percent = "19"
"""


def test_the_example_is_accepted() -> None:
    assert parse_plan(CAFE, "cafe.toml").name == "cafe"


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('price = "1.20"', 'price = "100000000000000000000"', 18,
         "price: '100000000000000000000' is more than the largest unit price, 10000000.00 EUR"),
        ('price = "1.20"', 'price = "10000000.01"', 18, "more than the largest unit price"),
        ('price = "1.20"', 'price = "0.0000001"', 18, "price: '0.0000001' must have at most 6 decimals"),
        ('price = "1.20"', 'price = "1e999999999"', 18, "price: '1e999999999' is out of any sensible range"),
        ('price = "1.20"', 'price = "NaN"', 18, "price: 'NaN' must be a finite, non-negative number"),
        ('price = "1.20"', 'price = "Infinity"', 18, "must be a finite, non-negative number"),
        ('price = "1.20"', 'price = "-Infinity"', 18, "must be a finite, non-negative number"),
        ('price = "1.20"', "price = 100000000000000000000", 18, "is more than the largest unit price"),
        ('{ price = "0.05" }', '{ price = "1e12" }', 22, "price: '1e12' is more than the largest unit price"),
        ('flat = "1.00"', 'flat = "1e16"', 22, "flat: '1e16' is more than 10000000000000.00 EUR, the largest"
         " amount rentmeter handles"),
        ('flat = "1.00"', 'flat = "1.005"', 22, "flat: '1.005' must have at most 2 decimals"),
        ('up_to = "10"', 'up_to = "1e15"', 22, "up_to: '1e15' is more than 1,000,000,000,000, the largest "
         "quantity allowed"),
        ('package = "10"', 'package = "0.0000000001"', 26,
         "package: '0.0000000001' must have at most 9 decimals"),
        ('price = "0.50"', 'price = "5e9"', 27, "price: '5e9' is more than the largest unit price"),
        ('free = "5"', 'free = "1e13"', 28, "free: '1e13' is more than"),
        ('minimum_charge = "1.00"', 'minimum_charge = "1e20"', 6, "minimum_charge: '1e20' is more than "
         "10000000000000.00 EUR"),
        ('cap = "25.00"', 'cap = "25.001"', 7, "cap: '25.001' must have at most 2 decimals"),
        ('daily_cap = "12.00"', 'daily_cap = "9999999999999999"', 8, "daily_cap: '9999999999999999' is more"),
        ('multiplier = "0.5"', 'multiplier = "11"', 14,
         "multiplier: '11' is more than 10, the largest multiplier"),
        ('multiplier = "0.5"', 'multiplier = "0.00000005"', 14, "must have at most 6 decimals"),
        ('premium = "1.5"', 'premium = "1e6"', 31, "premium: '1e6' is more than 10, the largest multiplier"),
        ('gold = "10"', 'gold = "150"', 34, "gold: '150' is more than 100 %"),
        ('amount = "5.00"', 'amount = "1e17"', 37, "amount: '1e17' is more than 10000000000000.00 EUR"),
        ('amount = "5.00"', 'amount = "5.001"', 37, "amount: '5.001' must have at most 2 decimals"),
        ('percent = "20"', 'percent = "101"', 40, "percent: '101' is more than 100 %"),
        ('percent = "19"', 'percent = "190"', 44, "percent: '190' is more than 100 %"),
    ],
)  # fmt: skip
def test_absurd_numbers_are_refused_with_the_line(old: str, new: str, line: int, words: str) -> None:
    assert CAFE.count(old) == 1
    with pytest.raises(PlanFileError) as error:
        parse_plan(CAFE.replace(old, new), "cafe.toml")
    assert str(error.value).startswith(f"cafe.toml:{line}: ") and words in str(error.value)
    assert error.value.line == line


@pytest.mark.parametrize(
    ("currency", "price", "cap"),
    [
        ("EUR", "10000000", "10000000000000.00"),  # 10^9 and 10^15 minor units, the largest allowed
        ("EUR", "0.000001", "0.01"),
        ("JPY", "1000000000", "1000000000000000"),
        ("BHD", "1000000.000", "1000000000000.000"),  # three decimals
        ("KWD", "0.123456", "0.001"),
    ],
)
def test_the_limits_themselves_are_accepted(currency: str, price: str, cap: str) -> None:
    document = (
        f'name = "p"\ncurrency = "{currency}"\n[session]\ncap = "{cap}"\n[time.hourly]\nc = "{price}"\n'
    )
    plan = parse_plan(document)
    assert (str(plan.rules[0].pricing.price), str(plan.session_cap)) == (price, cap)


def test_too_many_decimals_depend_on_the_currency() -> None:
    with pytest.raises(PlanFileError, match=r"p.toml:4: cap: '1.5' must be a whole number"):
        parse_plan('name = "p"\ncurrency = "JPY"\ncap = "1.5"\n'.replace("cap", "[session]\ncap"), "p.toml")
    with pytest.raises(PlanFileError, match=r"p.toml:2: currency: unknown currency 'XXX'"):
        parse_plan('name = "p"\ncurrency = "XXX"\n[time.hourly]\nc = "1e20"\n', "p.toml")


def test_a_stored_document_keeps_its_meaning() -> None:
    """Plans stored before the limits are read as they were: the engine's output check guards them."""
    document = CAFE.replace('price = "1.20"', 'price = "0.0000001"').replace('gold = "10"', 'gold = "10"\n')
    assert parse_plan(document, strict=False).rules[0].pricing.price.as_tuple().exponent == -7
    with pytest.raises(PlanFileError, match="out of any sensible range"):  # even then: no 10^999999999
        parse_plan(CAFE.replace('price = "1.20"', 'price = "1e999999999"'), strict=False)


# Overlapping windows.

HEAD = (
    'name = "p"\ncurrency = "EUR"\ntimezone = "Europe/Berlin"\n\n[[prices]]\nmeter = "time"\nprice = "2.00"\n'
)


PRICES = {"night": "1.00", "weekend": "3.00"}


def windows(*specs: str) -> str:
    """A plan (time at 2.00/h) with a window per spec ("name|days|from|to|extra line|..."), priced by
    PRICES or else at 1.00, 3.00, 5.00... in the order written."""
    text = HEAD
    for index, spec in enumerate(specs):
        name, days, start, end, *extra = spec.split("|")
        text += f'\n[[windows]]\nname = "{name}"\ndays = {days}\nfrom = "{start}"\nto = "{end}"\n'
        text += "".join(f"{line}\n" for line in extra)
        price = PRICES.get(name, f"{2 * index + 1}.00")
        text += f'\n[[prices]]\nmeter = "time"\nwindow = "{name}"\nprice = "{price}"\n'
    return text


NIGHT = 'night|"all"|22:00|06:00'
WEEKEND = 'weekend|"weekends"|00:00|00:00'


@pytest.mark.parametrize(
    ("specs", "line", "words"),
    [
        # A night past midnight every day and a weekend: Friday's night runs into Saturday.
        ((NIGHT, WEEKEND), 20,
         "windows: weekend (sat,sun, all day) overlaps night (every day, 22:00-06:00) (line 9): give the"
         " window that should apply where they overlap a higher priority, e.g. priority = 1"),
        ((WEEKEND, NIGHT), 20, "windows: night (every day, 22:00-06:00) overlaps weekend (sat,sun, all day)"),
        # Only through midnight: the Friday night window reaches into Saturday morning.
        (('fri-night|"fri"|23:00|02:00', 'sat-morning|"sat"|01:00|09:00'), 20, "sat-morning"),
        # Sunday night runs into Monday, across the end of the week.
        (('sunday-night|"sun"|22:00|06:00', 'monday-morning|"mon"|00:00|08:00'), 20, "monday-morning"),
        # Weekday ranges meeting on Friday evening.
        (('peak|"mon-fri"|08:00|20:00', 'evening|["fri-sun"]|18:00|23:00'), 20, "evening (fri,sat,sun"),
        # A holiday may fall on any weekday: a holidays window meets every window whose hours it meets.
        (('peak|"mon-fri"|08:00|20:00', 'holiday|"holidays"|00:00|00:00'), 20, "(a holiday can fall on any"
         " weekday)"),
        # Equal priorities are no priorities.
        ((f"{NIGHT}|priority = 2", f"{WEEKEND}|priority = 2"), 21, "e.g. priority = 3"),
        ((f"{NIGHT}|priority = 1001",), 14, "priority: a whole number from 0 to 1000"),
    ],
)  # fmt: skip
def test_overlapping_windows_are_refused_with_the_line(specs: tuple[str, ...], line: int, words: str) -> None:
    with pytest.raises(PlanFileError) as error:
        parse_plan(windows(*specs), "cafe.toml")
    assert str(error.value).startswith(f"cafe.toml:{line}: ") and words in str(error.value)


@pytest.mark.parametrize(
    "specs",
    [
        # Touching end to start is no overlap, also across midnight and the end of the week.
        ('day|"all"|06:00|22:00', NIGHT),
        ('sunday-night|"sun"|22:00|06:00', 'monday|"mon"|06:00|08:00'),
        ('late|"mon-thu"|18:00|00:00', 'early|"tue-fri"|00:00|06:00'),
        # Same hours on other days; a holiday window whose hours meet no other window's.
        ('week|"mon-thu"|08:00|20:00', 'weekend|"fri-sun"|08:00|20:00'),
        ('holiday|"holidays"|10:00|18:00', NIGHT),
        # Overlaps with distinct priorities.
        (f"{NIGHT}|priority = 1", WEEKEND),
        (NIGHT, f"{WEEKEND}|priority = 1"),
    ],
)
def test_windows_that_do_not_overlap_or_carry_priorities_are_accepted(specs: tuple[str, ...]) -> None:
    assert len(parse_plan(windows(*specs)).windows) == 2


def test_many_windows_are_refused() -> None:
    specs = [
        f'w{i}|"mon"|{i // 4:02d}:{i % 4 * 15:02d}|{i // 4:02d}:{i % 4 * 15 + 15 - 1:02d}' for i in range(96)
    ]
    assert len(parse_plan(windows(*specs)).windows) == 96
    more = specs + [f'x{i}|"tue"|{i:02d}:00|{i:02d}:30' for i in range(5)]
    with pytest.raises(PlanFileError, match=r"windows: at most 100 windows"):
        parse_plan(windows(*more))


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc, arg-type]


def _total(document: str, start: datetime, hours: int) -> str:
    charges = quote([parse_plan(document)], RentalTerms("c"), start, start + timedelta(hours=hours))
    return str(invoice_total(build_lines("s", charges), "EUR"))


def test_the_higher_priority_wins_whatever_the_order_written() -> None:
    """Friday 20:00 to Saturday 08:00 with a night window (1.00/h) and a weekend window (3.00/h): where both
    apply, the one with the higher priority does, in whichever order the file writes them. (Before, the
    first written won: the same two windows swapped made 18.00 into 30.00.)"""
    night, weekend = f"{NIGHT}|priority = 1", WEEKEND
    # Night wins Fri 22:00 to Sat 06:00: 2 h day at 2.00, 8 h night at 1.00, 2 h weekend at 3.00.
    assert _total(windows(night, weekend), _local(2026, 1, 9, 20), 12) == "18.00 EUR"
    assert _total(windows(weekend, night), _local(2026, 1, 9, 20), 12) == "18.00 EUR"
    # Weekend wins from Sat 00:00: 2 h day, 2 h night, 8 h weekend.
    weekend = f"{WEEKEND}|priority = 2"
    assert _total(windows(night, weekend), _local(2026, 1, 9, 20), 12) == "30.00 EUR"
    assert _total(windows(weekend, night), _local(2026, 1, 9, 20), 12) == "30.00 EUR"


def test_a_holiday_window_with_priority_beats_the_weekday_one() -> None:
    document = (
        windows('peak|"mon-fri"|08:00|20:00', 'holiday|"holidays"|00:00|00:00|priority = 1')
        .replace('timezone = "Europe/Berlin"', 'timezone = "Europe/Berlin"\nholidays = [2026-12-25]')
    )  # fmt: skip
    # Friday 25 Dec 07:00 to 10:00 is a holiday: 3 h at the holiday's 3.00, not 1 h day + 2 h peak.
    assert _total(document, _local(2026, 12, 25, 7), 3) == "9.00 EUR"
    # Thursday 24 Dec is not: 1 h day at 2.00, 2 h peak at 1.00.
    assert _total(document, _local(2026, 12, 24, 7), 3) == "4.00 EUR"
