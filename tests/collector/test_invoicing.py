"""Rating and invoicing on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import billing
from agent.identity import Identity, public_key_bytes
from collector.database import Database
from collector.enrollment import create_token, enroll
from collector.errors import FailedPrecondition
from collector.ingest import store_reports
from collector.invoicing import close_invoices, list_invoices, next_boundary
from collector.plans import create_plan
from collector.rating import rate_sessions
from collector.rentals import get_session, start_session, stop_session
from collector.timeutil import to_us
from tests.collector.helpers import SECOND, incoming, new_identity, sample

HOUR = timedelta(hours=1)
START = datetime(2026, 11, 25, 9, 40, tzinfo=UTC)  # 20 minutes before an hour boundary
PLAN = billing.simple_document("p", "EUR", {"standard": "36.00"}, "1.00", "2.00")  # 1 cent a second


@pytest.fixture
def machine(database: Database) -> Identity:
    owner = new_identity()
    token, _ = database.call(create_token, machine_class="standard", ttl=HOUR, label="", now=START - HOUR)
    row = database.call(
        enroll, token=token, public_key=public_key_bytes(owner.key), facts={}, now=START - HOUR
    )
    database.call(create_plan, PLAN, START - HOUR)
    return Identity(row.agent_id, "standard", owner.key)


def report_every_second(
    database: Database, machine: Identity, first: datetime, seconds: int, rx: int = 0
) -> None:
    """One-second samples over [first, first + seconds), ten per report, `rx` bytes each."""
    base = to_us(first) / SECOND
    samples = [sample(base + i, base + i + 1, rx=rx) for i in range(seconds)]
    reports = [incoming(machine, n + 1, samples[i : i + 10]) for n, i in enumerate(range(0, seconds, 10))]
    database.call(store_reports, reports, first + timedelta(seconds=seconds))


def test_periods_split_a_session_and_add_up(database: Database, machine: Identity) -> None:
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="p", now=START)
    report_every_second(database, machine, START, 40 * 60, rx=10**6)  # 40 minutes, 1 MB a second
    database.call(stop_session, rental.id, START + timedelta(minutes=30))
    invoices = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(minutes=5))
    assert [(i.period_start, i.period_end) for i in invoices] == [
        (START, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)),
        (datetime(2026, 11, 25, 10, 0, tzinfo=UTC), datetime(2026, 11, 25, 11, 0, tzinfo=UTC)),
    ]
    # 20 min + 10 min of time at 1 ct/s; 1.2 GB and 0.6 GB received at 1 EUR/GB.
    assert [i.total_minor for i in invoices] == [1200 + 120, 600 + 60]
    assert [line.meter for line in invoices[0].lines] == ["time", "traffic_in"]  # nothing sent: no line


def test_closing_twice_makes_no_second_invoice(database: Database, machine: Identity) -> None:
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="p", now=START)
    report_every_second(database, machine, START, 60)
    database.call(stop_session, rental.id, START + timedelta(seconds=60))
    later = START + 3 * HOUR
    first = database.call(close_invoices, later, period=HOUR, grace=timedelta(0))
    again = database.call(close_invoices, later, period=HOUR, grace=timedelta(0))
    now = database.call(close_invoices, later, period=HOUR, grace=timedelta(0), invoice_now=True)
    assert (len(first), again, now) == (1, [], [])
    assert len(database.call(list_invoices, "r1")) == 1


def test_grace_waits_for_late_reports(database: Database, machine: Identity) -> None:
    database.call(start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="p", now=START)
    boundary = next_boundary(START, HOUR)
    assert (
        database.call(
            close_invoices, boundary + timedelta(minutes=1), period=HOUR, grace=timedelta(minutes=5)
        )
        == []
    )
    report_every_second(database, machine, START, 20 * 60)
    (invoice,) = database.call(
        close_invoices, boundary + timedelta(minutes=5), period=HOUR, grace=timedelta(minutes=5)
    )
    assert invoice.total_minor == 1200


def test_invoice_now_closes_the_current_period_early(database: Database, machine: Identity) -> None:
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="p", now=START)
    report_every_second(database, machine, START, 90)
    database.call(stop_session, rental.id, START + timedelta(seconds=90))
    now = START + timedelta(seconds=95)
    (invoice,) = database.call(close_invoices, now, period=HOUR, grace=timedelta(0), invoice_now=True)
    assert (invoice.period_end, invoice.total_minor) == (now, 90)
    later = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    assert later == []  # the rest of the hour had no session: no empty invoice


def test_silent_machine_is_not_billed_and_live_cost_matches_invoice(
    database: Database, machine: Identity
) -> None:
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="p", now=START)
    report_every_second(database, machine, START, 30)  # then the machine goes silent
    end = START + timedelta(minutes=10)
    database.call(stop_session, rental.id, end)
    assert database.call(rate_sessions, end) == 1
    live = database.call(get_session, rental.id)
    (invoice,) = database.call(close_invoices, end, period=HOUR, grace=timedelta(0), invoice_now=True)
    assert (live.covered_us, live.cost_minor, invoice.total_minor) == (30 * SECOND, 30, 30)


def test_one_open_session_per_machine(database: Database, machine: Identity) -> None:
    database.call(start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="p", now=START)
    with pytest.raises(FailedPrecondition, match="already rented"):
        database.call(start_session, agent_id=machine.agent_id, renter_id="r2", plan_name="p", now=START)


def test_late_usage_lands_on_the_next_invoice_and_the_final_one_never_changes(
    database: Database, machine: Identity
) -> None:
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="p", now=START)
    base = to_us(START) / SECOND
    early = [incoming(machine, 1, [sample(base + i, base + i + 1) for i in range(30)])]
    database.call(store_reports, early, START + timedelta(seconds=31))
    database.call(stop_session, rental.id, START + timedelta(seconds=60))
    (first,) = database.call(
        close_invoices, START + timedelta(seconds=61), period=HOUR, grace=timedelta(0), invoice_now=True
    )
    assert first.total_minor == 30
    # The agent was cut off; its last 30 seconds arrive two minutes later.
    late = [incoming(machine, 2, [sample(base + 30 + i, base + 31 + i) for i in range(30)])]
    database.call(store_reports, late, START + timedelta(minutes=3))
    (second,) = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    adjustments = [line for line in second.lines if line.description.startswith("adjustment")]
    assert [(a.meter, a.quantity, a.amount_minor) for a in adjustments] == [("time", "30", 30)]
    assert second.total_minor == 30
    again = database.call(list_invoices, "r1")
    assert (again[0].id, again[0].total_minor, len(again[0].lines)) == (first.id, 30, len(first.lines))
    assert database.call(close_invoices, START + 3 * HOUR, period=HOUR, grace=timedelta(0)) == []


def test_a_minimum_is_charged_once_per_session_across_periods(database: Database, machine: Identity) -> None:
    plan = billing.simple_document("min", "EUR", {"standard": "36.00"}, increment="60s", minimum="30m")
    database.call(create_plan, plan, START - HOUR)
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="r2", plan_name="min", now=START
    )
    report_every_second(database, machine, START, 25 * 60 + 5)  # 25 min 5 s, crossing 10:00
    database.call(stop_session, rental.id, START + timedelta(minutes=25, seconds=5))
    database.call(rate_sessions, START + timedelta(minutes=26))
    assert database.call(get_session, rental.id).cost_minor == 1800  # the live cost already says so
    invoices = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    # First period: 20 min covered, billed as the 30-minute minimum (18.00); second: the rest of the
    # session (25:05 -> 26 min in whole minutes, still under the minimum) adds nothing, so no invoice.
    assert [i.total_minor for i in invoices] == [1800]
