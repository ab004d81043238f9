"""Demand-based prices: the [dynamic] policy, its multipliers, and locked prices in rating (hand-computed)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

import billing
from billing.dynamic import DemandPolicy, PriceLock, lock_starts, policy_for, round_multiplier
from billing.plan_file import PlanFileError, parse_plan

PLAN = """\
name = "cafe"
currency = "EUR"

[time.hourly]
standard = "1.20"
gpu = "3.00"

[[dynamic]]
class = "standard"
floor = "0.80"
cap = "1.50"
max_change = "0.10"
low = "0.3"
high = "0.9"
publish_ahead = "6h"

[[dynamic]]
floor = "1.00"
cap = "2.00"
max_change = "0.25"
step = "4h"
lock = "8h"
curve = [{ occupancy = "0.5", multiplier = "1.50" }, { occupancy = "0.8", multiplier = "2.00" }]
"""
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)


def policies() -> tuple[DemandPolicy, ...]:
    return parse_plan(PLAN).dynamic


def test_the_dynamic_section_becomes_policies() -> None:
    standard, rest = policies()
    assert (standard.machine_class, standard.floor, standard.cap, standard.max_change) == (
        "standard", Decimal("0.80"), Decimal("1.50"), Decimal("0.10"),
    )  # fmt: skip
    assert (standard.step_us, standard.publish_ahead_us, standard.lock_us) == (
        3600 * 10**6,
        6 * 3600 * 10**6,
        None,
    )
    assert (rest.machine_class, rest.step_us, rest.lock_us) == ("", 4 * 3600 * 10**6, 8 * 3600 * 10**6)
    assert policy_for((standard, rest), "standard") is standard
    assert policy_for((standard, rest), "gpu") is rest
    assert policy_for((standard,), "gpu") is None


@pytest.mark.parametrize(
    ("occupancy", "target"),
    [
        (Fraction(0), Fraction("0.8")),  # at or below low: the floor
        (Fraction("0.3"), Fraction("0.8")),
        (Fraction("0.6"), Fraction("1.15")),  # half way: 0.8 + 0.7 / 2
        (Fraction("0.9"), Fraction("1.5")),
        (Fraction(2), Fraction("1.5")),  # clamped to 1
    ],
)
def test_the_linear_curve_runs_from_floor_to_cap(occupancy: Fraction, target: Fraction) -> None:
    assert policies()[0].target(occupancy) == target


def test_a_curve_table_takes_the_row_reached() -> None:
    rest = policies()[1]
    targets = [rest.target(Fraction(x)) for x in ("0.49", "0.5", "0.79", "0.8", "1")]
    assert targets == [1, Fraction("1.5"), Fraction("1.5"), 2, 2]


def test_steps_move_at_most_max_change_and_stay_within_floor_and_cap() -> None:
    standard = policies()[0]
    # Nothing published yet: from the static price (1) by at most 0.10.
    assert standard.next_multiplier(None, Fraction(1)) == Decimal("1.10")
    assert standard.next_multiplier(None, Fraction(0)) == Decimal("0.90")
    assert standard.next_multiplier(Decimal("1.45"), Fraction(1)) == Decimal("1.50")  # the cap
    assert standard.next_multiplier(Decimal("0.85"), Fraction(0)) == Decimal("0.80")  # the floor
    assert standard.next_multiplier(Decimal("1.00"), Fraction("0.62")) == Decimal("1.10")  # target 1.173...
    assert standard.next_multiplier(Decimal("1.10"), Fraction("0.62")) == Decimal("1.17")  # 1.17333 rounded
    assert standard.next_multiplier(Decimal("3.00"), Fraction(1)) == Decimal("1.50")  # an old value above cap
    walk, previous = [], None
    for occupancy in [Fraction(1)] * 8 + [Fraction(0)] * 9:
        previous = standard.next_multiplier(previous, occupancy)
        walk.append(str(previous))
    assert walk == ["1.10", "1.20", "1.30", "1.40", "1.50", "1.50", "1.50", "1.50",
                    "1.40", "1.30", "1.20", "1.10", "1.00", "0.90", "0.80", "0.80", "0.80"]  # fmt: skip


def test_multipliers_round_half_up_on_the_exact_fraction() -> None:
    assert round_multiplier(Fraction(1005, 1000)) == Decimal("1.01")
    assert round_multiplier(Fraction(10049999, 10**7)) == Decimal("1.00")
    assert round_multiplier(Fraction(7, 6)) == Decimal("1.17")


def test_only_steps_not_yet_begun_are_published() -> None:
    standard = policies()[0]
    now = T0 + timedelta(minutes=20)
    assert standard.steps_to_publish(now, None) == [T0 + timedelta(hours=h) for h in range(1, 7)]
    # Published until 13:00 already: only 13:00..15:00 remain within six hours of 10:20.
    assert standard.steps_to_publish(now, T0 + timedelta(hours=3)) == [
        T0 + timedelta(hours=h) for h in (3, 4, 5, 6)
    ]
    assert standard.steps_to_publish(T0, None)[0] == T0  # a step starting now has not begun to apply


def test_lock_starts() -> None:
    assert lock_starts(T0, T0 + timedelta(days=2), None) == [T0]
    eight = 8 * 3600 * 10**6
    assert lock_starts(T0, T0 + timedelta(hours=16), eight) == [T0 + timedelta(hours=h) for h in (0, 8, 16)]


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        ('cap = "1.50"', 'cap = "0.50"', "11: cap: floor must be above 0 and at most the cap"),
        (
            'max_change = "0.10"',
            'max_change = "0.105"',
            "12: max_change: a multiplier of dynamic prices has at most 2 decimals",
        ),
        (
            'publish_ahead = "6h"',
            'publish_ahead = "8d"',
            "15: publish_ahead: at least one step and at most 7 days",
        ),
        ('step = "4h"', 'step = "5h"', "21: step: from 1 minute to 1 day"),
        ('lock = "8h"', 'lock = "1h"', '22: lock: "session" or a duration of at least one step'),
        ('low = "0.3"', 'low = "0.95"', "14: high: occupancies satisfy 0 <= low < high <= 1"),
        ('floor = "0.80"', "floor = 0.8", "10: floor: write amounts as text"),
        ('floor = "0.80"', 'flor = "0.80"', "10: unknown key 'flor' in [dynamic]"),
        ('cap = "1.50"', 'cap = "11"', "11: cap: '11' is more than 10, the largest multiplier"),
        (
            'occupancy = "0.8", multiplier = "2.00"',
            'occupancy = "0.4", multiplier = "2.00"',
            "23: curve: occupancies rise from row to row",
        ),
    ],
)
def test_dynamic_errors_name_file_and_line(edit: str, line: str, message: str) -> None:
    assert edit in PLAN
    with pytest.raises(PlanFileError) as caught:
        parse_plan(PLAN.replace(edit, line, 1), "cafe.toml")
    assert str(caught.value).startswith("cafe.toml:" + message.split(":", 1)[0] + ":")
    assert message.split(":", 1)[1].strip() in str(caught.value)


def test_a_single_table_and_two_policies_for_one_class() -> None:
    single = 'name = "a"\ncurrency = "EUR"\n[time.hourly]\nx = "1"\n'
    single += '[dynamic]\nfloor = "1"\ncap = "2"\nmax_change = "1"\n'
    assert parse_plan(single).dynamic[0].machine_class == ""
    twice = PLAN.replace('floor = "1.00"', 'class = "standard"\nfloor = "1.00"')
    with pytest.raises(PlanFileError, match="two policies for the same class"):
        parse_plan(twice, "cafe.toml")


def hours(n: int) -> billing.Usage:
    return billing.Usage(covered_us=n * 3600 * 10**6)


def test_a_locked_multiplier_scales_usage_prices_and_names_itself_on_the_line() -> None:
    plan = parse_plan(PLAN)
    terms = billing.RentalTerms("standard", demand=(PriceLock(T0, Decimal("1.20")),))
    charges = billing.quote([plan], terms, T0, T0 + timedelta(hours=3))
    # 3 h x 1.20 EUR x 1.20 = 4.32 EUR
    assert [(c.meter, c.amount, c.rate) for c in charges] == [("time", Decimal("4.32"), Decimal("1.44"))]
    assert "x1.20 demand price, locked at start" in charges[0].description
    lines = billing.build_lines("s-1", charges)
    assert billing.invoice_total(lines, "EUR") == billing.Money(432, "EUR")
    static = billing.quote([plan], billing.RentalTerms("standard"), T0, T0 + timedelta(hours=3))
    assert static[0].amount == Decimal("3.60") and "demand" not in static[0].description


def test_relocks_cut_the_session_and_each_lock_prices_its_own_time() -> None:
    plan = parse_plan(PLAN)
    first, second = PriceLock(T0, Decimal("1.50")), PriceLock(T0 + timedelta(hours=8), Decimal("2.00"))
    charges = billing.quote(
        [plan], billing.RentalTerms("gpu", demand=(first, second)), T0, T0 + timedelta(hours=10)
    )
    # 8 h x 3.00 x 1.5 = 36.00, then 2 h x 3.00 x 2 = 12.00: one line, its keys unchanged by the second lock
    assert [(c.meter, c.amount, c.rate) for c in charges] == [("time#2", Decimal(48), Decimal("4.8"))]
    assert [piece.amount for piece in charges[0].pieces] == [Decimal(36), Decimal(12)]
    assert "x1.50 demand price, locked at start, x2.00 demand price, locked at 2026-03-02T18:00:00+00:00" in (
        charges[0].description
    )
    before = billing.quote([plan], billing.RentalTerms("gpu", demand=(first,)), T0, T0 + timedelta(hours=8))
    assert [(c.meter, c.amount) for c in before] == [("time#2", Decimal(36))]  # the period before: same key


def test_a_first_lock_after_the_start_leaves_the_time_before_it_static() -> None:
    plan = parse_plan(PLAN)
    later = PriceLock(T0 + timedelta(hours=1), Decimal("1.20"))
    (charge,) = billing.quote(
        [plan], billing.RentalTerms("standard", demand=(later,)), T0, T0 + timedelta(hours=2)
    )
    assert charge.amount == Decimal("2.64")  # 1.20 + 1.20 x 1.20
    assert "(static price, x1.20 demand price, locked at 2026-03-02T11:00:00+00:00)" in charge.description


def test_a_policy_describes_itself() -> None:
    standard, rest = policies()
    assert standard.describe() == (
        "demand prices (standard): x0.8-x1.5, x0.8 up to 30 % occupancy, x1.5 from 90 %, at most 0.1 a step "
        "of 1 h, published 6 h ahead, locked for the whole session"
    )
    assert rest.describe().startswith("demand prices (every class): x1-x2, x1.5 from 50 %, x2 from 80 %")
    assert rest.describe().endswith("a step of 4 h, published 24 h ahead, locked for 8 h")
