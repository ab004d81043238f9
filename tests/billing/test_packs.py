"""Time packs in the engine: burn rates, order of use, validity and window, overage at the plan's price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import PlanFileError, RentalTerms, Usage, parse_plan, quote, rate
from billing.packs import HeldPack, pack_use_us
from tests.billing.plans import total

PLAN = """
name = "cafe"
currency = "CNY"
timezone = "Asia/Shanghai"

[[windows]]
name = "night"
from = "23:00"
to = "07:00"

[time.hourly]
"" = "4.00"
gpu = "12.00"
premium = "6.00"

[burn_rates]
gpu = "1.5"
premium = "1.2"

[[packs]]
name = "3 hours"
price = "10.00"
time = "3h"

[[packs]]
name = "night"
price = "15.00"
time = "8h"
valid_for = "1d"
window = "night"

[[packs]]
name = "week"
price = "99.00"
valid_for = "7d"
"""
HOUR = 3600 * 10**6
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _pack(id: str, hours: float | None, *, bought: datetime = T0 - timedelta(days=1), days: int = 30,
          window: str = "") -> HeldPack:  # fmt: skip
    left = None if hours is None else int(hours * HOUR)
    return HeldPack(id, id, left, bought, bought + timedelta(days=days), window)


def _charges(machine_class: str, hours: float, *packs: HeldPack, start: datetime = T0) -> list:
    plan = parse_plan(PLAN)
    return quote([plan], RentalTerms(machine_class, packs=packs), start, start + timedelta(hours=hours))


# (class, hours rented, pack hours, expected total in yuan, pack time used in hours), by hand
CASES = [
    ("", 2, 3, "0.00", Decimal(2)),  # 2 h from a 3 h pack at 1x
    ("", 4, 3, "4.00", Decimal(3)),  # pack gone after 3 h, 1 h overage at 4.00
    ("gpu", 2, 3, "0.00", Decimal(3)),  # 2 h of GPU box burn 3 h of pack
    ("gpu", 3, 3, "12.00", Decimal(3)),  # the pack runs out after 2 h; 1 h at 12.00
]


def test_premium_seat_burns_at_1_2() -> None:
    # 3 h pack at 1.2x lasts 2 h 30 min; the last 30 min cost 30/60 x 6.00 = 3.00
    charges = _charges("premium", 3, _pack("a", 3))
    assert str(total(charges, "CNY")) == "3.00 CNY"
    (line,) = [c for c in charges if c.meter == "pack:a"]
    assert line.quantity == Decimal(3 * 3600)
    assert "2 h 30 min of rental time at x1.2 (premium) used 3 h 00 min of pack time" in line.description
    assert "ran out at 2026-03-02T06:30:00+00:00" in line.description


@pytest.mark.parametrize(("machine_class", "hours", "pack_hours", "expected", "used"), CASES)
def test_hand_computed(
    machine_class: str, hours: float, pack_hours: float, expected: str, used: Decimal
) -> None:
    charges = _charges(machine_class, hours, _pack("p", pack_hours))
    assert str(total(charges, "CNY")) == f"{expected} CNY"
    assert pack_use_us(charges) == {"p": int(used * HOUR)}


def test_gpu_pack_runs_out_at_the_expected_minute_and_overage_follows() -> None:
    charges = _charges("gpu", 3, _pack("p", 3))
    (line,) = [c for c in charges if c.meter == "pack:p"]
    assert "ran out at 2026-03-02T06:00:00+00:00" in line.description  # 2 h after 04:00
    (time_line,) = [c for c in charges if c.meter.startswith("time")]
    assert time_line.quantity == Decimal(3600)  # one hour metered
    assert time_line.amount == Decimal(12)


def test_packs_are_used_expiring_first() -> None:
    late = _pack("late", 2, days=30)
    soon = _pack("soon", 1, days=5)
    charges = _charges("", 2, late, soon)
    assert pack_use_us(charges) == {"soon": HOUR, "late": HOUR}
    lines = [c.meter for c in charges if c.meter.startswith("pack:")]
    assert lines == ["pack:soon", "pack:late"]


def test_a_pack_counts_only_while_valid() -> None:
    # bought at T0 + 1 h: the first hour is metered (4.00), then 1 h from the pack
    charges = _charges("", 2, _pack("p", 3, bought=T0 + timedelta(hours=1)))
    assert str(total(charges, "CNY")) == "4.00 CNY"
    # expires at T0 + 1 h: the second hour is metered
    charges = _charges("", 2, _pack("q", 3, bought=T0 - timedelta(days=1) + timedelta(hours=1), days=1))
    assert str(total(charges, "CNY")) == "4.00 CNY"


def test_a_night_pack_counts_only_at_night() -> None:
    # 21:00 to 09:00 Shanghai: 2 h before (8.00), 8 h from the night pack, 2 h after (8.00)
    start = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    charges = _charges("", 12, _pack("n", 8, window="night"), start=start)
    assert str(total(charges, "CNY")) == "16.00 CNY"
    assert pack_use_us(charges) == {"n": 8 * HOUR}


def test_a_pass_is_unlimited_while_valid() -> None:
    charges = _charges("gpu", 10, _pack("w", None, days=7))
    assert str(total(charges, "CNY")) == "0.00 CNY"
    (line,) = [c for c in charges if c.meter == "pack:w"]
    assert "unlimited until" in line.description


def test_gaps_are_not_taken_from_the_pack() -> None:
    plan = parse_plan(PLAN)
    terms = RentalTerms("", packs=(_pack("p", 3),))

    def half_covered(a: datetime, b: datetime) -> Usage:
        return Usage(covered_us=(b - a) // timedelta(microseconds=1) // 2)

    charges = rate([plan], terms, T0, T0 + timedelta(hours=8), half_covered)
    # 4 h covered: 3 h from the pack, 1 h at 4.00
    assert str(total(charges, "CNY")) == "4.00 CNY"
    assert pack_use_us(charges) == {"p": 3 * HOUR}


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        ('time = "3h"', 23, "time: 'x' is not a duration"),
        ('window = "night"', 30, "window: no window is named 'day'"),
        ('gpu = "1.5"', 17, "burn_rates: the rate of 'gpu' must be above 0"),
    ],
)
def test_pack_errors_name_their_line(change: str, line: int, message: str) -> None:
    bad = {'time = "3h"': 'time = "x"', 'window = "night"': 'window = "day"', 'gpu = "1.5"': 'gpu = "0"'}
    with pytest.raises(PlanFileError) as caught:
        parse_plan(PLAN.replace(change, bad[change]))
    assert caught.value.line == line
    assert message in str(caught.value)


@settings(max_examples=80, deadline=None)
@given(
    minutes=st.integers(1, 600),
    pack_minutes=st.integers(1, 600),
    machine_class=st.sampled_from(["", "gpu", "premium"]),
)
def test_pack_and_overage_add_up(minutes: int, pack_minutes: int, machine_class: str) -> None:
    """Pack time used is min(pack, minutes x burn); the rest of the rental time is metered at the
    class's price; nothing is counted twice or lost."""
    burn = {"": Decimal(1), "gpu": Decimal("1.5"), "premium": Decimal("1.2")}[machine_class]
    price = {"": 4, "gpu": 12, "premium": 6}[machine_class]
    pack = HeldPack("p", "p", pack_minutes * 60 * 10**6, T0 - timedelta(days=1), T0 + timedelta(days=1))
    charges = _charges(machine_class, minutes / 60, pack)
    used_us = pack_use_us(charges)["p"]
    assert used_us == min(pack_minutes * 60 * 10**6, int(minutes * 60 * 10**6 * burn + Decimal("0.999999")))
    metered_us = sum(c.quantity for c in charges if c.meter.startswith("time")) * 10**6
    paid_wall_us = minutes * 60 * 10**6 - metered_us
    assert paid_wall_us * burn >= used_us - burn  # the pack paid for what it was charged
    expected = (Decimal(metered_us) / 10**6 / 3600 * price).quantize(Decimal("0.01"))
    assert total(charges, "CNY").minor == int(expected * 100)
