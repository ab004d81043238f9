"""Rating against hand-computed figures and against an independent reference written with Fractions."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import BillingError, InvalidPlan, Money, PricePlan, Usage, build_lines, invoice_total
from tests.billing.plans import rate_once, simple_plan

PLAN = simple_plan({"standard": "1.20", "gpu": "2.75"}, "0.05", "0.09")


def _total(usage: Usage, plan: PricePlan = PLAN, machine_class: str = "standard") -> Money:
    return invoice_total(build_lines("s", rate_once(usage, plan, machine_class)), plan.currency)


@pytest.mark.parametrize(
    ("usage", "machine_class", "expected"),
    [
        (Usage(3600 * 10**6, 0, 0), "standard", "1.20"),  # one hour
        (Usage(30 * 10**6, 0, 0), "standard", "0.01"),  # 30 s = 0.01 exactly
        (Usage(14_999_999, 0, 0), "standard", "0.00"),  # 0.004999... rounds down
        (Usage(15 * 10**6, 0, 0), "standard", "0.01"),  # 0.005 rounds half up
        (Usage(90 * 60 * 10**6, 0, 0), "gpu", "4.13"),  # 4.125 -> 4.13
        (Usage(0, 10**9, 10**9), "standard", "0.14"),  # 1 GB in + 1 GB out
        (
            Usage(3600 * 10**6, 2_500_000_000, 100_000_000),
            "standard",
            "1.34",
        ),  # 1.20 + 0.125->0.13 + 0.009->0.01
    ],
)
def test_hand_computed_totals(usage: Usage, machine_class: str, expected: str) -> None:
    assert _total(usage, machine_class=machine_class) == Money.of(Decimal(expected), "EUR")


def test_each_line_is_rounded_once_and_total_is_their_sum() -> None:
    lines = build_lines("s-1", rate_once(Usage(15 * 10**6, 10**8, 10**8), PLAN, "standard"))
    assert [(line.meter, line.amount.minor) for line in lines] == [
        ("time", 1),
        ("traffic_in", 1),
        ("traffic_out", 1),
    ]
    assert invoice_total(lines, "EUR") == Money(3, "EUR")  # 0.005 + 0.005 + 0.009, each rounded


def test_free_traffic_has_no_line() -> None:
    plan = simple_plan({"standard": "1"})
    assert [c.meter for c in rate_once(Usage(1, 10**9, 10**9), plan, "standard")] == ["time"]


def test_charge_explains_itself() -> None:
    (time_charge,) = [c for c in rate_once(Usage(90_500_000, 0, 0), PLAN, "standard") if c.meter == "time"]
    assert (time_charge.quantity, time_charge.unit, time_charge.rate, time_charge.rate_unit) == (
        Decimal("90.5"),
        "s",
        Decimal("1.20"),
        "h",
    )
    assert time_charge.amount == Decimal(
        "0.0301666666666666666666666666666666666666666666666666666666667"
    )  # 60 digits


def test_unknown_machine_class_is_not_rated() -> None:
    with pytest.raises(BillingError, match="no rental-time price for class 'tiny'"):
        rate_once(Usage(1, 0, 0), PLAN, "tiny")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"currency": "EURO"}, "currency"),
        ({"hourly": {}}, "at least one price"),
        ({"hourly": {"standard": "-1"}}, "non-negative"),
        ({"hourly": {"standard": "abc"}}, "not a decimal"),
        ({"hourly": {"standard": "NaN"}}, "finite"),
        ({"traffic_in": "1e"}, "in_per_gb"),
    ],
)
def test_invalid_plans_say_what_is_wrong(kwargs: dict, message: str) -> None:
    args = {"currency": "EUR", "hourly": {"standard": "1"}, **kwargs}
    with pytest.raises(InvalidPlan, match=message):
        simple_plan(args["hourly"], args.get("traffic_in", ""), currency=args["currency"])


def _reference_total(usage: Usage, hourly: str, gb_in: str, gb_out: str) -> int:
    """Independent reference: exact Fractions, half-up rounding per line, in cents."""

    def cents(value: Fraction) -> int:
        scaled = value * 100
        return int(scaled + Fraction(1, 2)) if scaled >= 0 else -int(-scaled + Fraction(1, 2))

    lines = [Fraction(usage.covered_us, 10**6) * Fraction(hourly) / 3600]
    if Fraction(gb_in):
        lines.append(Fraction(usage.net_rx_bytes, 10**9) * Fraction(gb_in))
    if Fraction(gb_out):
        lines.append(Fraction(usage.net_tx_bytes, 10**9) * Fraction(gb_out))
    return sum(cents(line) for line in lines)


prices = st.decimals(min_value=0, max_value=1000, places=4).map(str)
usages = st.builds(
    Usage,
    covered_us=st.integers(0, 40 * 24 * 3600 * 10**6),
    net_rx_bytes=st.integers(0, 10**14),
    net_tx_bytes=st.integers(0, 10**14),
)


@given(usage=usages, hourly=prices, gb_in=prices, gb_out=prices)
def test_engine_matches_reference(usage: Usage, hourly: str, gb_in: str, gb_out: str) -> None:
    plan = simple_plan({"c": hourly}, gb_in, gb_out)
    assert _total(usage, plan, "c").minor == _reference_total(usage, hourly, gb_in, gb_out)


@pytest.mark.parametrize(
    ("covered_s", "increment_s", "minimum_s", "billed_s"),
    [
        (0, 60, 900, 0),  # nothing covered: no minimum
        (0.000001, 60, 0, 60),
        (60, 60, 0, 60),
        (60.000001, 60, 0, 120),
        (61.2, 60, 900, 900),  # under the minimum
        (901, 60, 900, 960),
        (3599, 3600, 0, 3600),  # the first hour
        (7.5, 0.000001, 0, 7.5),  # default: per microsecond
    ],
)
def test_increment_and_minimum(covered_s: float, increment_s: float, minimum_s: int, billed_s: float) -> None:
    plan = simple_plan(
        {"c": "36.00"},
        increment=f"{Decimal(str(increment_s)):f}s",
        minimum=f"{minimum_s}s" if minimum_s else "",
    )
    charges = rate_once(Usage(round(covered_s * 10**6)), plan, "c")
    if not billed_s:
        assert charges == []  # nothing covered, nothing billed
        return
    (charge,) = charges
    assert charge.quantity == Decimal(round(billed_s * 10**6)).scaleb(-6)
    assert Money.of(charge.amount, "EUR") == Money.of(
        Decimal(round(billed_s * 10**6)).scaleb(-6) / 100, "EUR"
    )


def test_increment_and_minimum_are_explained() -> None:
    plan = simple_plan({"c": "1"}, increment="60s", minimum="900s")
    (charge,) = rate_once(Usage(61_200_000), plan, "c")
    assert charge.description == "rental time, c (61.2 s covered, billed per 60 s, minimum 900 s)"
    assert [(p.quantity, p.note) for p in charge.pieces] == [
        (Decimal("61.2"), ""),
        (Decimal("838.8"), "61.2 s covered, billed per 60 s, minimum 900 s"),
    ]


@pytest.mark.parametrize(("increment", "minimum"), [("0s", ""), ("86400.000001s", ""), ("1s", "32d")])
def test_bad_increments_and_minimums(increment: str, minimum: str) -> None:
    with pytest.raises(InvalidPlan):
        simple_plan({"c": "1"}, increment=increment, minimum=minimum)
