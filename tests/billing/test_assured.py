"""Rating under a plan's assurance and idle rules, and green-hour energy prices, against hand-computed
amounts: billed short gaps, outage credits, idle discounts, and the rules' limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing import InvalidPlan, Money, RentalTerms, Usage, build_lines, invoice_total, parse_plan, rate
from billing.assured import rate_assured
from billing.confidence import Gap, basis_text, line_basis
from billing.idle import discounted_spans

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
BASE = 'name = "p"\ncurrency = "EUR"\n[time.hourly]\nstandard = "36.00"\n'  # one cent a second
TERMS = RentalTerms("standard")


def _covered_except(gaps: list[Gap]):  # the usage_of callable of billing.rate
    def usage_of(a: datetime, b: datetime) -> Usage:
        missing = sum(g.overlap_us(a, b) for g in gaps)
        return Usage(covered_us=(b - a) // timedelta(microseconds=1) - missing)

    return usage_of


def _total(text: str, gaps: list[Gap], idle: Sequence[tuple[datetime, datetime]] = ()) -> dict[str, int]:
    versions = [parse_plan(text)]
    charges = rate_assured(versions, TERMS, T0, T0 + 30 * MIN, _covered_except(gaps), gaps,
                           idle_samples=idle, with_gap_line=True)  # fmt: skip
    return {line.meter: line.amount.minor for line in build_lines("s", charges)}


GAPS = [Gap(T0 + 10 * MIN, T0 + 10 * MIN + timedelta(seconds=30)), Gap(T0 + 15 * MIN, T0 + 25 * MIN)]


@pytest.mark.parametrize(
    ("assurance", "expected"),
    [
        ("", {"time": 1170, "gap": 0}),  # 1800 - 630 s covered, nothing for the gaps
        ('bill_gaps_shorter_than = "60s"', {"time": 1200, "gap": 0}),  # + the 30 s gap
        ('bill_gaps_shorter_than = "20m"', {"time": 1800, "gap": 0}),  # both gaps billed
        ('sla_outage_longer_than = "5m"\nsla_credit = "2"', {"time": 1170, "sla": -1170, "gap": 0}),  # capped
        ('sla_outage_longer_than = "5m"\nsla_credit = "0.5"', {"time": 1170, "sla": -300, "gap": 0}),
        ('sla_outage_longer_than = "15m"\nsla_credit = "1"', {"time": 1170, "gap": 0}),  # 10 min < 15 min
    ],
)
def test_gaps_and_outages(assurance: str, expected: dict[str, int]) -> None:
    assert _total(BASE + "[assurance]\n" + assurance + "\n", GAPS) == expected


def test_an_outage_in_a_window_is_credited_at_the_windows_price() -> None:
    night = BASE + '[[windows]]\nname = "late"\nfrom = "10:20"\nto = "11:00"\nmultiplier = "2"\n'
    rule = '[assurance]\nsla_outage_longer_than = "5m"\nsla_credit = "1"\n'
    # The outage 10:15-10:25: 5 min at 1 ct/s, 5 min at 2 ct/s = 3.00 + 6.00 EUR.
    assert _total(night + rule, GAPS)["sla"] == -900


def test_idle_time_beyond_the_threshold_costs_the_idle_rate() -> None:
    idle = [(T0 + i * MIN, T0 + (i + 1) * MIN) for i in range(5, 25)]  # 20 idle minutes, back to back
    rule = parse_plan(BASE + IDLE).idle
    assert rule is not None
    assert discounted_spans(idle, rule) == [Gap(T0 + 15 * MIN, T0 + 25 * MIN)]
    assert _total(BASE + IDLE, [], idle) == {"time": 1800, "idle": -300}  # 600 s x 0.5 ct
    paused = IDLE.replace('rate = "0.5"', 'rate = "0"')
    assert _total(BASE + paused, [], idle) == {"time": 1800, "idle": -600}  # billing paused
    broken = idle[:9] + idle[10:]  # a busy minute at 14-15: 9 and 10 idle minutes, neither beyond 10
    assert _total(BASE + IDLE, [], broken) == {"time": 1800}


IDLE = '[idle]\nbelow = "5"\nafter = "10m"\nrate = "0.5"\n'


def test_green_hours_price_energy_lower() -> None:
    plan = parse_plan(
        BASE + '[[windows]]\nname = "green"\nfrom = "10:10"\nto = "10:20"\n'
        '[[prices]]\nmeter = "energy"\nper = "kWh"\nprice = "0.30"\n'
        '[[prices]]\nmeter = "energy"\nwindow = "green"\nper = "kWh"\nprice = "0.10"\n'
    )

    def usage_of(a: datetime, b: datetime) -> Usage:  # 1 kWh a minute
        return Usage(
            covered_us=(b - a) // timedelta(microseconds=1), energy_mj=(b - a) // MIN * 3_600_000_000
        )

    charges = rate([plan], TERMS, T0, T0 + 30 * MIN, usage_of)
    # 20 kWh at 0.30 + 10 kWh in green hours at 0.10 = 7.00 EUR; 18.00 EUR of time.
    assert invoice_total(build_lines("s", charges), "EUR") == Money.of(Decimal("25.00"), "EUR")


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[assurance]\nsla_credit = "2"\n', "give sla_outage_longer_than too"),
        ('[assurance]\nsla_outage_longer_than = "5m"\nsla_credit = "11"\n', "between 0 and 10"),
        ('[assurance]\ndispute_window = "400d"\n', "366 days"),
        ('[assurance]\nbill_gaps = "60s"\n', "unknown key 'bill_gaps'"),
        ('[idle]\nbelow = "5"\nafter = "10m"\nrate = "1"\n', "below 1"),
        ('[idle]\nbelow = "5"\nrate = "0.5"\n', "idle: give after"),
    ],
)
def test_rules_are_checked(table: str, words: str) -> None:
    with pytest.raises(InvalidPlan, match=words):
        parse_plan(BASE + table)


def test_line_bases() -> None:
    assert [line_basis(m, d) for m, d in [("time", "rental time"), ("gap", "no reports"), ("sla", "credit"),
            ("idle", "idle"), ("time", "adjustment: late usage, rental time")]] == [
        "measured", "gap", "adjusted", "adjusted", "adjusted"]  # fmt: skip
    assert basis_text("measured", 1_170_000_000, 630_000_000) == "measured, 1170 s covered, 630 s not"
    assert basis_text("gap", 0, 630_000_000) == "gap, 630 s without reports"
