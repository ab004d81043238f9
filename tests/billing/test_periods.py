"""Invoicing a session in periods: the lines add up to the whole, and late usage becomes an adjustment."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing import Invoiced, Money, Usage, period_lines
from tests.billing.plans import rate_once, simple_plan

PLAN = simple_plan({"c": "1.37"}, "0.113", "0.07")


def cumulative(usage: Usage):  # type: ignore[no-untyped-def]
    return rate_once(usage, PLAN, "c")


@given(
    parts=st.lists(
        st.tuples(st.integers(0, 10**10), st.integers(0, 10**10), st.integers(0, 10**10)),
        min_size=1,
        max_size=8,
    )
)
def test_periods_add_up_to_the_rounded_whole(parts: list[tuple[int, int, int]]) -> None:
    so_far, invoiced = Usage(), {}
    totals: dict[str, int] = {}
    for covered, rx, tx in parts:
        after = so_far + Usage(covered, rx, tx)
        for line in period_lines("s", cumulative(so_far), cumulative(after), invoiced):
            totals[line.meter] = totals.get(line.meter, 0) + line.amount.minor
            done = invoiced.get(line.meter, Invoiced(Decimal(0), 0))
            invoiced[line.meter] = Invoiced(done.quantity + line.quantity, done.minor + line.amount.minor)
        so_far = after
    whole = {c.meter: Money.of(c.amount, "EUR").minor for c in cumulative(so_far)}
    assert totals == whole


def test_late_usage_is_an_adjustment_and_the_period_line_is_its_own() -> None:
    # 100 s were invoiced; later, 50 s more arrived for that earlier period; this period adds 200 s.
    invoiced = {
        "time": Invoiced(Decimal(100), 4),
        "traffic_in": Invoiced(Decimal(0), 0),
        "traffic_out": Invoiced(Decimal(0), 0),
    }
    before, through = cumulative(Usage(150_000_000)), cumulative(Usage(350_000_000))
    lines = [
        (line.meter, line.description, line.quantity, line.amount.minor)
        for line in period_lines("s", before, through, invoiced)
    ]
    assert (
        "time",
        "adjustment: late usage, rental time, c",
        Decimal(50),
        2,
    ) in lines  # 0.0571 -> 6 ct; 6 - 4
    assert ("time", "rental time, c", Decimal(200), 7) in lines  # 0.1332 -> 13 ct; 13 - 6


def test_a_session_outside_the_period_gets_only_its_adjustment() -> None:
    invoiced = {"time": Invoiced(Decimal(100), 4)}
    whole = cumulative(Usage(150_000_000))
    lines = period_lines("s", whole, whole, invoiced, in_period=False)
    assert [(line.meter, line.amount.minor) for line in lines if line.amount.minor] == [("time", 2)]
