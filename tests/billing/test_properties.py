"""Properties of the engine over generated price lists and sessions.

- rating a session in pieces (finer segments, as usage arrives) gives exactly the charges of rating it whole;
- invoicing it in periods (differences of cumulative charges) adds up to the whole, to the cent;
- the engine agrees with an independent reference that walks the session minute by minute in local time.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from billing import (
    Invoiced,
    RentalTerms,
    parse_plan,
    period_lines,
    rate,
    rate_segments,
    segments,
    uniform_usage,
)
from billing.money import Money

ZONE = "Europe/Berlin"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Window edges avoid 02:00-03:00 local, where DST changes make wall-clock readings ambiguous.
HOURS = [h for h in range(24) if h != 2]


@st.composite
def price_lists(draw: st.DrawFn) -> dict:  # type: ignore[type-arg]
    windows = []
    count = draw(st.integers(0, 3))
    priorities = draw(st.permutations(range(count)))  # distinct: overlapping windows need them
    for index in range(count):
        start, end = draw(st.sampled_from(HOURS)), draw(st.sampled_from(HOURS))
        days = sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
        price = Fraction(draw(st.integers(0, 500)), 100)
        windows.append({"name": f"w{index}", "days": days, "from": start, "to": end, "price": price,
                        "priority": priorities[index]})  # fmt: skip
    return {
        "base": Fraction(draw(st.integers(0, 500)), 100),
        "windows": windows,
        "daily_cap": draw(st.none() | st.integers(1, 40).map(Fraction)),
        "service": Fraction(draw(st.sampled_from([100, 80, 150, 125])), 100),
        "tax": draw(st.sampled_from([0, 7, 19, 21])),
    }


def document(spec: dict) -> str:  # type: ignore[type-arg]
    lines = ['name = "p"', 'currency = "EUR"', f'timezone = "{ZONE}"', "[session]"]
    if spec["daily_cap"] is not None:
        lines.append(f'daily_cap = "{spec["daily_cap"]}"')
    lines += ["[service_levels]", f'level = "{_decimal(spec["service"])}"']
    if spec["tax"]:
        lines += ["[tax]", 'name = "VAT"', f'percent = "{spec["tax"]}"']
    lines += ["[[prices]]", 'meter = "time"', f'price = "{_decimal(spec["base"])}"']
    for w in spec["windows"]:
        days = ", ".join(f'"{DAYS[d]}"' for d in w["days"])
        lines += ["[[windows]]", f'name = "{w["name"]}"', f"days = [{days}]", f'from = "{w["from"]:02d}:00"',
                  f'to = "{w["to"]:02d}:00"', f"priority = {w['priority']}", "[[prices]]", 'meter = "time"',
                  f'window = "{w["name"]}"', f'price = "{_decimal(w["price"])}"']  # fmt: skip
    return "\n".join(lines) + "\n"


def _decimal(value: Fraction) -> str:
    return str(value.numerator / value.denominator) if value.denominator != 1 else str(value.numerator)


sessions = st.tuples(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 28)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    st.integers(1, 3 * 24 * 60),  # minutes
    st.integers(0, 10**11),  # bytes received
)


def _rate_whole(spec: dict, start: datetime, minutes: int, rx: int):  # type: ignore[no-untyped-def, type-arg]
    end = start + timedelta(minutes=minutes)
    usage_of = uniform_usage(start, end, rx_bytes=rx)
    return [parse_plan(document(spec))], RentalTerms("c", service_level="level"), end, usage_of


@settings(max_examples=60, deadline=None)
@given(spec=price_lists(), session=sessions, cuts=st.lists(st.floats(0.01, 0.99), max_size=6))
def test_rating_in_pieces_equals_rating_whole(spec: dict, session: tuple, cuts: list[float]) -> None:  # type: ignore[type-arg]
    start, minutes, rx = session
    versions, terms, end, usage_of = _rate_whole(spec, start, minutes, rx)
    whole = rate(versions, terms, start, end, usage_of)
    parts = []
    for segment in segments(versions, start, end):
        span = segment.end - segment.start
        points = sorted({segment.start, segment.end, *(segment.start + span * c for c in cuts)})
        for a, b in itertools.pairwise(points):
            if a < b:
                parts.append((replace(segment, start=a, end=b), usage_of(a, b)))
    pieces = rate_segments(versions, terms, start, parts)
    assert [(c.meter, c.quantity, c.amount) for c in pieces] == [
        (c.meter, c.quantity, c.amount) for c in whole
    ]


@settings(max_examples=60, deadline=None)
@given(spec=price_lists(), session=sessions, cuts=st.lists(st.floats(0.0, 1.0), max_size=5))
def test_periods_add_up_to_the_whole(spec: dict, session: tuple, cuts: list[float]) -> None:  # type: ignore[type-arg]
    start, minutes, rx = session
    versions, terms, end, usage_of = _rate_whole(spec, start, minutes, rx)
    bounds = sorted({start, end, *(start + (end - start) * c for c in cuts)})
    invoiced: dict[str, Invoiced] = {}
    billed = 0
    for a, b in itertools.pairwise(bounds):
        before, through = rate(versions, terms, start, a, usage_of), rate(versions, terms, start, b, usage_of)
        for line in period_lines("s", before, through, invoiced):
            billed += line.amount.minor
            done = invoiced.get(line.meter, Invoiced(0, 0))  # type: ignore[arg-type]
            invoiced[line.meter] = Invoiced(done.quantity + line.quantity, done.minor + line.amount.minor)
    whole = rate(versions, terms, start, end, usage_of)
    assert billed == sum(Money.of(c.amount, "EUR").minor for c in whole)


def reference_total(spec: dict, start: datetime, minutes: int) -> int:  # type: ignore[type-arg]
    """Minute by minute in local wall-clock time: of the windows whose days and hours contain the local
    time, the one with the highest priority prices the minute; per-day caps by local date; per-line
    rounding; tax on the subtotal."""
    zone = ZoneInfo(ZONE)
    by_line: dict[str, Fraction] = {}
    by_day: dict[date, Fraction] = {}
    for minute in range(minutes):
        moment = (start + timedelta(minutes=minute)).astimezone(zone)
        line, price = "base", spec["base"]
        for w in sorted(spec["windows"], key=lambda w: -w["priority"]):
            hour, today, yesterday = moment.hour, moment.weekday(), (moment.weekday() - 1) % 7
            if w["from"] < w["to"]:
                inside = today in w["days"] and w["from"] <= hour < w["to"]
            else:  # runs past midnight (or all day when from == to == 0)
                inside = (today in w["days"] and hour >= w["from"]) or (
                    yesterday in w["days"] and hour < w["to"]
                )
            if inside:
                line, price = w["name"], w["price"]
                break
        amount = price * spec["service"] / 60
        by_line[line] = by_line.get(line, Fraction(0)) + amount
        by_day[moment.date()] = by_day.get(moment.date(), Fraction(0)) + amount
    subtotal = sum(_cents(a) for a in by_line.values())
    cap = spec["daily_cap"]
    if cap is not None and any(a > cap for a in by_day.values()):
        subtotal = _cents(sum((min(a, cap) for a in by_day.values()), Fraction(0)))
    return subtotal + _cents(Fraction(subtotal * spec["tax"], 100 * 100)) if spec["tax"] else subtotal


def _cents(amount: Fraction) -> int:
    scaled = amount * 100
    return int(scaled + Fraction(1, 2)) if scaled >= 0 else -int(-scaled + Fraction(1, 2))


@settings(max_examples=80, deadline=None)
@given(spec=price_lists(), session=sessions)
def test_engine_matches_a_minute_by_minute_reference(spec: dict, session: tuple) -> None:  # type: ignore[type-arg]
    start, minutes, _ = session
    versions, terms, end, usage_of = _rate_whole(spec, start, minutes, 0)
    charges = rate(versions, terms, start, end, usage_of)
    assert sum(Money.of(c.amount, "EUR").minor for c in charges) == reference_total(spec, start, minutes)
