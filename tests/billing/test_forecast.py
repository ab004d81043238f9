"""The burn-rate forecast: money and packs, by hand and against a minute-by-minute simulation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.forecast import describe, lasts_us

MIN = 60 * 10**6


@pytest.mark.parametrize(
    ("money", "during", "pack_min", "after", "expected_min"),
    [
        (1000, 0, 0, 600, 100),  # 10.00 at 6.00/h: 100 min
        (1000, 0, 0, 0, None),  # nothing spent: never
        (0, 0, 0, 600, 0),  # nothing left
        (1000, 0, 30, 600, 130),  # 30 min of pack, then 100 min
        (1000, 120, 30, 720, 80),  # 1.00 of traffic with the pack (0.60), 9.40 at 7.20/h = 78.33 -> 30 + 78
        (50, 120, 60, 720, 25),  # traffic alone empties the wallet while the pack still pays: 25 min
        (1000, 0, 90, 0, None),
    ],
)
def test_by_hand(money: int, during: int, pack_min: int, after: int, expected_min: int | None) -> None:
    result = lasts_us(money, Fraction(during), pack_min * MIN, Fraction(after))
    if expected_min is None:
        assert result is None
    elif (money, during, after) == (1000, 120, 720):
        assert result == 30 * MIN + (1000 - 60) * 3600 * 10**6 // 720  # 78 min 20 s after the pack
    else:
        assert result == expected_min * MIN


def test_describe() -> None:
    assert describe(37 * MIN + 5) == "at your current use your balance lasts 37 min"
    assert describe(125 * MIN) == "at your current use your balance lasts 2 h 05 min"
    assert describe(25 * 10**6 + 999_999) == "at your current use your balance lasts 25 s"
    assert describe(None) == "at your current use your balance never runs out"


@settings(max_examples=200, deadline=None)
@given(
    money=st.integers(0, 5_000),
    during=st.integers(0, 5_000),
    pack_min=st.integers(0, 600),
    after=st.integers(100, 5_000),
)
def test_matches_a_minute_by_minute_simulation(money: int, during: int, pack_min: int, after: int) -> None:
    """Spending minute by minute, the money is gone in the minute the forecast names."""
    result = lasts_us(money, Fraction(during), pack_min * MIN, Fraction(after))
    assert result is not None
    left, minute = Fraction(money), 0
    while True:
        rate = during if minute < pack_min else after
        if left - Fraction(rate, 60) < 0:
            break
        left -= Fraction(rate, 60)
        minute += 1
    assert minute * MIN <= result < (minute + 1) * MIN
