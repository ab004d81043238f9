"""Billing cycles against hand-worked calendars."""

from datetime import UTC, datetime

import pytest

from billing.cycles import Cycle
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
