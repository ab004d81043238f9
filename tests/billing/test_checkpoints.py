"""Rating from checkpoints gives, to the cent and piece by piece, the charges of rating from the start.

Random plans (windows with multipliers, daily and session caps, graduated and volume tiers, free allowances,
billing increments and minimums, a second version taking over mid-session, service levels, tax, coupons),
random demand-price locks and usage with silences; the session is rated at a random series of ends (as the
rating job, a watcher, and invoices at period boundaries ask for it), each time going on from the checkpoint
the previous rating left, its JSON round trip included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import RentalTerms, Usage, parse_plan, rate
from billing.checkpoints import Checkpoint
from billing.dynamic import PriceLock
from billing.rating import rate_from

ZONE = "Europe/Berlin"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CAPPED = 'name = "p"\ncurrency = "EUR"\n[session]\ndaily_cap = "5"\n[[prices]]\nmeter = "time"\nprice = "1"\n'
HOURS = [h for h in range(24) if h != 2]  # DST hours make wall-clock edges ambiguous


@st.composite
def plan_documents(draw: st.DrawFn) -> str:
    lines = ['name = "p"', 'currency = "EUR"', f'timezone = "{ZONE}"', "[session]"]
    increment, minimum = (
        draw(st.sampled_from(["", "1m", "15m", "1h"])),
        draw(st.sampled_from(["", "30m", "2h"])),
    )
    lines += [f'increment = "{increment}"'] if increment else []
    lines += [f'minimum = "{minimum}"'] if minimum else []
    if draw(st.booleans()):
        lines.append(f'daily_cap = "{draw(st.integers(1, 40))}"')
    if draw(st.booleans()):
        lines.append(f'cap = "{draw(st.integers(5, 200))}"')
    if draw(st.booleans()):
        lines.append(f'minimum_charge = "{draw(st.integers(1, 10))}"')
    lines += ["[service_levels]", 'gold = "1.25"', "[coupons.WELCOME]", 'percent = "10"']
    if draw(st.booleans()):
        lines += ["[tax]", 'name = "VAT"', 'percent = "19"']
    lines += ["[[prices]]", 'meter = "time"', *_pricing(draw)]
    for index in range(draw(st.integers(0, 2))):
        days = ", ".join(f'"{DAYS[d]}"' for d in sorted(draw(st.sets(st.integers(0, 6), min_size=1))))
        start, end = draw(st.sampled_from(HOURS)), draw(st.sampled_from(HOURS))
        lines += ["[[windows]]", f'name = "w{index}"', f"days = [{days}]", f'from = "{start:02d}:00"',
                  f'to = "{end:02d}:00"', f"priority = {index}"]  # fmt: skip
        if draw(st.booleans()):
            lines.append(f'multiplier = "{draw(st.sampled_from(["0.5", "1.5", "2"]))}"')
        else:
            lines += ["[[prices]]", 'meter = "time"', f'window = "w{index}"', *_pricing(draw)]
    lines += ["[[prices]]", 'meter = "traffic_in"', f'free = "{draw(st.integers(0, 5))}"', *_pricing(draw)]
    lines += ["[[prices]]", 'meter = "cpu"', f'price = "0.0{draw(st.integers(1, 9))}"']
    return "\n".join(lines) + "\n"


def _pricing(draw: st.DrawFn) -> list[str]:
    mode = draw(st.sampled_from(["standard", "graduated", "volume"]))
    if mode == "standard":
        return [f'price = "{Decimal(draw(st.integers(0, 500))).scaleb(-2)}"']
    first, second = draw(st.integers(1, 30)), Decimal(draw(st.integers(0, 300))).scaleb(-2)
    tiers = f'[{{ up_to = "{first}", price = "{second + 1}" }}, {{ price = "{second}" }}]'
    return [f'mode = "{mode}"', f"tiers = {tiers}"]


def usage_of(seed: int) -> Callable[[datetime, datetime], Usage]:
    """Deterministic usage of [a, b): covered in part (silences), traffic and CPU in proportion."""

    def usage(a: datetime, b: datetime) -> Usage:
        span = (b - a) // timedelta(microseconds=1)
        digest = hashlib.sha256(f"{seed}:{a.timestamp()}".encode()).digest()
        covered = span * digest[0] // 255
        return Usage(
            covered_us=covered, net_rx_bytes=covered * digest[1] * 7, cpu_busy_us=covered * digest[2] // 64
        )

    return usage


@st.composite
def sessions(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)))
    start = start.replace(second=0, microsecond=0, tzinfo=UTC)
    length = timedelta(minutes=draw(st.integers(1, 9 * 24 * 60)))
    fractions = sorted(draw(st.lists(st.integers(1, 1000), min_size=1, max_size=8)))
    ends = [start + length * f / 1000 for f in fractions]
    locks = sorted({start + length * f / 1000 for f in draw(st.lists(st.integers(0, 999), max_size=3))})
    return {"start": start, "ends": ends, "locks": locks, "seed": draw(st.integers(0, 10**6)),
            "changes": draw(st.none() | st.integers(1, 999).map(lambda f: start + length * f / 1000)),
            "resources": draw(st.sampled_from([{}, {"disk": Decimal("500")}])),
            "settle_lag": timedelta(minutes=draw(st.sampled_from([0, 5, 90])))}  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(first=plan_documents(), second=plan_documents(), session=sessions())
def test_rating_from_checkpoints_equals_rating_from_the_start(
    first: str, second: str, session: dict[str, Any]
) -> None:
    versions = [parse_plan(first)]
    if session["changes"] is not None:
        versions.append(replace(parse_plan(second), effective_from=session["changes"]))
    locks = tuple(
        PriceLock(since, Decimal(m))
        for since, m in zip(session["locks"], ("1.2", "0.85", "1.5"), strict=False)
    )
    terms = RentalTerms("standard", service_level="gold", coupon="WELCOME", resources=session["resources"],
                        demand=locks)  # fmt: skip
    usage, start = usage_of(session["seed"]), session["start"]
    checkpoint: Checkpoint | None = None
    for end in session["ends"]:
        whole = rate(versions, terms, start, end, usage)
        settled = end - session["settle_lag"]
        resumed, checkpoint = rate_from(versions, terms, start, end, usage, checkpoint, settled)
        assert resumed == whole
        assert [c.day_amounts for c in resumed] == [c.day_amounts for c in whole]
        if checkpoint is not None:
            assert checkpoint.until <= settled and checkpoint.until < end
            checkpoint = Checkpoint.from_json(checkpoint.to_json())


def test_a_checkpoint_after_the_end_is_not_used() -> None:
    plan = parse_plan(CAPPED)
    start = datetime(2026, 3, 1, 20, tzinfo=UTC)
    usage = usage_of(1)
    _, later = rate_from(
        [plan], RentalTerms("c"), start, start + timedelta(days=2), usage, None, start + timedelta(days=2)
    )
    assert later is not None and later.until == datetime(2026, 3, 3, tzinfo=UTC)
    early = start + timedelta(hours=10)
    resumed, kept = rate_from([plan], RentalTerms("c"), start, early, usage, later, early)
    assert resumed == rate([plan], RentalTerms("c"), start, early, usage)
    assert kept is not None and kept.until == datetime(2026, 3, 2, tzinfo=UTC)


def test_checkpoint_json_keeps_amounts_exact() -> None:
    plan = parse_plan(CAPPED.replace('"1"', '"1.07"'))
    start = datetime(2026, 3, 1, 20, 7, 13, tzinfo=UTC)
    end = start + timedelta(days=3)
    _, checkpoint = rate_from([plan], RentalTerms("c"), start, end, usage_of(3), None, end)
    assert checkpoint is not None
    again = Checkpoint.from_json(checkpoint.to_json())
    assert again == checkpoint
    assert Checkpoint.from_json('{"format": 0}') is None


@pytest.mark.parametrize("lag_minutes", [0, 60])
def test_nothing_is_kept_before_usage_settles(lag_minutes: int) -> None:
    plan = parse_plan(CAPPED)
    start = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # a UTC plan: its day ends at 00:00
    end = start + timedelta(hours=1)
    settled = end - timedelta(minutes=lag_minutes)
    _, checkpoint = rate_from([plan], RentalTerms("c"), start, end, usage_of(5), None, settled)
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    assert (checkpoint is not None and checkpoint.until == midnight) == (settled >= midnight)
