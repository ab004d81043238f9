"""Demand-based prices on a real database (SQLite and PostgreSQL): the published schedule, locked prices,
rating and invoices with the lock, quotes at the published price, occupancy history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.identity import Identity
from billing.confidence import GAP_METER
from collector.db.database import Database
from collector.db.models import ClassOccupancy, Machine, PriceStep, RentalSession
from collector.insights.recommending import Candidate, current_total, price_candidate
from collector.invoicing.invoices import close_invoices
from collector.metering.ingest import store_reports
from collector.pricing.schedule import price_schedules, publish_prices
from collector.sessions.balances import current_rate
from collector.sessions.explain import explain_session
from collector.sessions.plans import create_plan
from collector.sessions.rating import rate_sessions
from collector.sessions.rentals import get_session, start_session, stop_session
from tests.collector.helpers import SECOND, enrolled_machine, incoming, sample

HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 25, 9, 40, tzinfo=UTC)
ONLINE = timedelta(minutes=5)
PLAN = """\
name = "surge"
currency = "EUR"

[time.hourly]
standard = "36.00"

[dynamic]
class = "standard"
floor = "0.80"
cap = "1.50"
max_change = "0.10"
low = "0.3"
high = "0.9"
publish_ahead = "3h"
"""


@pytest.fixture
def machines(database: Database) -> list[Identity]:
    found = [enrolled_machine(database, NOW - 2 * HOUR) for _ in range(2)]
    database.call(create_plan, PLAN, NOW - 2 * HOUR)
    seen(database, NOW)
    return found


def seen(database: Database, at: datetime) -> None:
    database.call(lambda db: db.execute(update(Machine).values(last_seen_at=at)))


def schedule(database: Database) -> list[tuple[str, str]]:
    rows = database.call(lambda db: list(db.scalars(select(PriceStep).order_by(PriceStep.starts_at))))
    return [(row.starts_at.strftime("%H:%M"), row.multiplier) for row in rows]


def rent(database: Database, machine: Identity, at: datetime, renter: str = "r1") -> str:
    return database.call(
        start_session, agent_id=machine.agent_id, renter_id=renter, plan_name="surge", now=at
    ).id


def report(database: Database, machine: Identity, first: datetime, seconds: int, sequence: int) -> None:
    base = first.timestamp()
    samples = [sample(base + i, base + i + 1) for i in range(seconds)]
    reports = [
        incoming(machine, sequence + n, samples[i : i + 60]) for n, i in enumerate(range(0, seconds, 60))
    ]
    database.call(store_reports, reports, first + timedelta(seconds=seconds))


def test_steps_are_published_ahead_within_limits_and_never_rewritten(
    database: Database, machines: list[Identity]
) -> None:
    for machine in machines:  # both machines rented: occupancy 1, the curve's target is the cap
        rent(database, machine, NOW - timedelta(seconds=30), renter=machine.agent_id)
    outcome = database.call(publish_prices, NOW, ONLINE)
    assert outcome.failed == []
    # From the static price (1) by at most 0.10 a step; only steps that have not begun (10:00 on).
    assert schedule(database) == [("10:00", "1.10"), ("11:00", "1.20"), ("12:00", "1.30")]
    database.call(lambda db: [stop_session(db, s.id, NOW + timedelta(minutes=5)) for s in list_open(db)])
    # Demand gone: nothing already published moves, whatever the job computes now.
    database.call(publish_prices, NOW + timedelta(minutes=10), ONLINE)
    assert schedule(database) == [("10:00", "1.10"), ("11:00", "1.20"), ("12:00", "1.30")]
    seen(database, NOW + timedelta(minutes=65))
    database.call(publish_prices, NOW + timedelta(minutes=65), ONLINE)  # 10:45: the 13:00 step is due
    assert schedule(database) == [("10:00", "1.10"), ("11:00", "1.20"), ("12:00", "1.30"), ("13:00", "1.20")]


def test_floor_and_cap_hold_over_many_steps(database: Database, machines: list[Identity]) -> None:
    for machine in machines:
        rent(database, machine, NOW - timedelta(seconds=30), renter=machine.agent_id)
    for hour in range(8):
        seen(database, NOW + hour * HOUR)
        database.call(publish_prices, NOW + hour * HOUR, ONLINE)
    multipliers = [Decimal(m) for _, m in schedule(database)]
    assert multipliers[:5] == [Decimal(x) for x in ("1.10", "1.20", "1.30", "1.40", "1.50")]
    assert max(multipliers) == Decimal("1.50") and len(multipliers) == 10


def test_a_locked_price_never_changes_while_the_multiplier_moves(
    database: Database, machines: list[Identity]
) -> None:
    busy, free = machines
    rent(database, busy, NOW - timedelta(seconds=30), renter="other")
    rent(database, free, NOW - timedelta(seconds=20), renter="other2")
    database.call(publish_prices, NOW, ONLINE)  # 10:00 x1.10, 11:00 x1.20, 12:00 x1.30
    start = NOW + timedelta(minutes=50)  # 10:30, in the 10:00 step
    database.call(
        lambda db: [stop_session(db, s.id, start) for s in list_open(db) if s.renter_id == "other2"]
    )
    session_id = rent(database, free, start)
    assert database.call(get_session, session_id).price_locks == [[start.isoformat(), "1.10"]]
    # Demand stays high after the start: a higher multiplier is published (13:00 x1.40) and x1.20 comes
    # into force at 11:00; neither touches the session.
    seen(database, start + timedelta(minutes=15))
    database.call(publish_prices, start + timedelta(minutes=15), ONLINE)
    assert schedule(database)[-1] == ("13:00", "1.40")
    report(database, free, start, 600, sequence=1)  # 10:30-10:40
    report(database, free, start + 40 * timedelta(minutes=1), 600, sequence=11)  # 11:10-11:20, at x1.20
    end = start + HOUR
    database.call(stop_session, session_id, end)
    database.call(rate_sessions, end)
    live = database.call(get_session, session_id)
    # 1,200 s at 36.00 EUR an hour (1 cent a second) x 1.10, never x1.20
    assert live.cost_minor == 1320
    invoices = database.call(close_invoices, end, period=HOUR, grace=timedelta(0), invoice_now=True)
    lines = [
        line
        for invoice in invoices
        if invoice.renter_id == "r1"
        for line in invoice.lines
        if line.basis != "gap"  # the half hour without reports in each period is a line of its own
    ]
    # Two periods (10:30-11:00, 11:00-11:30), each 600 s at the locked x1.10: the second too.
    assert [line.amount_minor for line in lines] == [660, 660]
    assert all("x1.10 demand price, locked at start" in line.description for line in lines)
    charges = database.call(lambda db: explain_session(db, session_id, end).charges)
    explained = [c for c in charges if c.meter != GAP_METER]
    assert [(c.amount, "x1.10 demand price, locked at start" in c.description) for c in explained] == [
        (Decimal("13.2"), True)
    ]


def test_the_live_rate_of_a_session_is_its_locked_price(database: Database, machines: list[Identity]) -> None:
    for machine in machines:
        rent(database, machine, NOW - timedelta(seconds=30), renter=machine.agent_id)
    database.call(publish_prices, NOW, ONLINE)  # 10:00 x1.10, 11:00 x1.20, 12:00 x1.30
    database.call(lambda db: [stop_session(db, s.id, NOW + HOUR) for s in list_open(db)])
    session_id = rent(database, machines[0], NOW + HOUR)  # 10:40: x1.10
    later = NOW + 2 * HOUR  # 11:40, when x1.20 is in force
    rate = database.call(lambda db: current_rate(get_session(db, session_id), later))
    assert rate == Fraction("39.6")  # 36.00 x 1.10 an hour, what WatchSession's live cost runs at


def list_open(db: Session) -> list[RentalSession]:
    return list(db.scalars(select(RentalSession).where(RentalSession.ended_at.is_(None))))


def test_without_a_published_step_a_session_pays_the_static_price(
    database: Database, machines: list[Identity]
) -> None:
    session_id = rent(database, machines[0], NOW)
    assert database.call(get_session, session_id).price_locks == []
    report(database, machines[0], NOW, 60, sequence=1)
    database.call(stop_session, session_id, NOW + timedelta(minutes=1))
    database.call(rate_sessions, NOW + timedelta(minutes=1))
    assert database.call(get_session, session_id).cost_minor == 60


def test_the_schedule_shows_each_steps_price(database: Database, machines: list[Identity]) -> None:
    database.call(publish_prices, NOW, ONLINE)  # nobody renting: occupancy 0, towards the floor
    (found,) = database.call(price_schedules, "standard", NOW, 3)
    assert (found.plan, found.currency, found.locked_for) == ("surge", "EUR", "the whole session")
    prices = [(str(s.multiplier), str(s.price_per_hour)) for s in found.steps]
    assert prices == [("0.90", "32.4"), ("0.80", "28.8"), ("0.80", "28.8")]
    assert database.call(price_schedules, "gpu", NOW, 3) == []


def test_occupancy_history_is_counted_incrementally(database: Database, machines: list[Identity]) -> None:
    rent(database, machines[0], NOW - timedelta(minutes=30))
    database.call(publish_prices, NOW, ONLINE)
    database.call(publish_prices, NOW + timedelta(minutes=30), ONLINE)  # counted again from 09:40 only
    rows = database.call(
        lambda db: [
            (r.hour_start.strftime("%H"), r.occupied_us)
            for r in db.scalars(select(ClassOccupancy).order_by(ClassOccupancy.hour_start))
        ]
    )
    assert rows == [("09", 50 * 60 * SECOND), ("10", 10 * 60 * SECOND)]  # 09:10-10:10, each second once


def test_with_a_lock_period_each_period_takes_the_price_published_for_its_start(
    database: Database, machines: list[Identity]
) -> None:
    database.call(create_plan, PLAN.replace('"surge"', '"hourly-lock"') + 'lock = "1h"\n', NOW - HOUR)
    busy, free = machines
    rent(database, busy, NOW - timedelta(seconds=30), renter="other")
    rent(database, free, NOW - timedelta(seconds=20), renter="other2")
    database.call(publish_prices, NOW, ONLINE)  # each plan: 10:00 x1.10, 11:00 x1.20, 12:00 x1.30
    start = NOW + timedelta(minutes=50)  # 10:30
    database.call(
        lambda db: [stop_session(db, s.id, start) for s in list_open(db) if s.renter_id == "other2"]
    )
    session_id = database.call(
        start_session, agent_id=free.agent_id, renter_id="r1", plan_name="hourly-lock", now=start
    ).id
    report(database, free, start, 600, sequence=1)  # 10:30-10:40 under the first lock (x1.10)
    report(database, free, start + HOUR, 600, sequence=11)  # 11:30-11:40: the 11:30 lock takes x1.20
    database.call(rate_sessions, start + HOUR + timedelta(minutes=10))
    rental = database.call(get_session, session_id)
    assert rental.price_locks == [[start.isoformat(), "1.10"], [(start + HOUR).isoformat(), "1.20"]]
    assert rental.cost_minor == 660 + 720  # 600 s x 1 cent x 1.10, 600 s x 1 cent x 1.20


def test_recommendations_re_rate_a_session_under_its_own_plan_at_its_locked_price(
    database: Database, machines: list[Identity]
) -> None:
    busy, free = machines
    rent(database, busy, NOW - timedelta(seconds=30), renter="other")
    rent(database, free, NOW - timedelta(seconds=20), renter="other2")
    database.call(publish_prices, NOW, ONLINE)  # 10:00 x1.10
    start = NOW + timedelta(minutes=50)
    database.call(
        lambda db: [stop_session(db, s.id, start) for s in list_open(db) if s.renter_id == "other2"]
    )
    session_id = rent(database, free, start)
    report(database, free, start, 600, sequence=1)
    end = start + timedelta(minutes=10)
    database.call(stop_session, session_id, end)

    def totals(db: Session) -> tuple[int, int | None]:
        rental = db.get(RentalSession, session_id)
        assert rental is not None
        own = price_candidate(db, [rental], rental.plan, Candidate("surge"), end, {})
        return current_total(db, [rental], end, {}), own.total_minor

    # 600 s at 1 cent a second x1.10, both as billed and as the recommendation re-rates it (not x1).
    assert database.call(totals) == (660, 660)
