"""What machines earned per local day, week and month: invoiced lines where their stretch begins, the
live cost not invoiced yet, sessions and rented seconds split exactly at local midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

import billing
from collector.core.errors import InvalidArgument
from collector.db.database import Database
from collector.db.models import Machine
from collector.invoicing.earnings import MAX_PERIODS, earnings, period_starts
from collector.invoicing.invoices import close_invoices
from collector.sessions.plans import create_plan
from collector.sessions.rating import rate_sessions
from collector.sessions.rentals import start_session, stop_session
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import report_every_second

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)
# 23:30 in Berlin on Wednesday 25 November 2026; local midnight is 23:00 UTC.
FIRST = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)
SECOND_START = datetime(2026, 11, 26, 1, 10, tzinfo=UTC)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def machine_id(database: Database) -> str:
    """A machine of host h1 with an hour-long session across Berlin's midnight, invoiced hour by hour,
    and a second session, ten minutes reported, not invoiced yet; another host's machine earns too."""
    machine = enrolled_machine(database, FIRST - HOUR)
    database.call(lambda db: db.execute(update(Machine).where(Machine.agent_id == machine.agent_id)
                                        .values(host_id="h1")))  # fmt: skip
    database.call(create_plan, billing.simple_document("p", "EUR", {"standard": "36.00"}), FIRST - HOUR)
    first = database.call(
        start_session, agent_id=machine.agent_id, renter_id="alice", plan_name="p", now=FIRST
    )
    report_every_second(database, machine, FIRST, 3600)
    database.call(stop_session, first.id, FIRST + HOUR)
    invoices = database.call(
        close_invoices, SECOND_START - timedelta(minutes=10), period=HOUR, grace=timedelta(0)
    )
    assert [i.total_minor for i in invoices] == [1800, 1800]  # 22:00-23:00 and 23:00-00:00 UTC
    database.call(
        start_session, agent_id=machine.agent_id, renter_id="alice", plan_name="p", now=SECOND_START
    )
    report_every_second(database, machine, SECOND_START, 600, sequence=400)
    database.call(rate_sessions, SECOND_START + timedelta(minutes=11))
    other = enrolled_machine(database, FIRST - HOUR)
    database.call(start_session, agent_id=other.agent_id, renter_id="bob", plan_name="p", now=FIRST)
    report_every_second(database, other, FIRST, 60)
    return machine.agent_id


def rows(database: Database, period: str, **scope: str) -> list[tuple[object, ...]]:
    found = database.call(earnings, local(2026, 11, 25), local(2026, 11, 27), period, BERLIN, **scope)
    return [(r.agent_id, r.period_start, r.currency, r.invoiced_minor, r.uninvoiced_minor, r.sessions,
             r.rented_us // 1_000_000) for r in found]  # fmt: skip


def test_earnings_per_local_day(database: Database, machine_id: str) -> None:
    assert rows(database, "day", agent_id=machine_id) == [
        # 23:30-24:00 local: half the hour, invoiced on the 25th.
        (machine_id, local(2026, 11, 25), "EUR", 1800, 0, 1, 1800),
        # 00:00-00:30 invoiced, then the open session's ten minutes at 02:10.
        (machine_id, local(2026, 11, 26), "EUR", 1800, 600, 2, 1800 + 600),
    ]


def test_earnings_per_week_and_month_and_per_host(database: Database, machine_id: str) -> None:
    monday = local(2026, 11, 23)
    assert rows(database, "week", host_id="h1") == [(machine_id, monday, "EUR", 3600, 600, 2, 4200)]
    assert rows(database, "month", host_id="h1") == [
        (machine_id, local(2026, 11, 1), "EUR", 3600, 600, 2, 4200)
    ]
    every = rows(database, "week")
    assert len(every) == 2 and {r[0] for r in every} > {machine_id}
    assert rows(database, "week", host_id="h2") == []


def test_local_days_follow_daylight_saving_time() -> None:
    spring = period_starts(local(2026, 3, 28, 12), local(2026, 3, 30), "day", BERLIN)
    assert spring == [local(2026, 3, 28), local(2026, 3, 29), local(2026, 3, 30)]
    assert spring[2] - spring[1] == timedelta(hours=23)
    weeks = period_starts(local(2026, 11, 25), local(2026, 12, 1), "week", BERLIN)
    assert weeks == [local(2026, 11, 23), local(2026, 11, 30), local(2026, 12, 7)]
    with pytest.raises(InvalidArgument, match=f"at most {MAX_PERIODS} periods"):
        period_starts(local(2020, 1, 1), local(2024, 1, 1), "day", BERLIN)
    with pytest.raises(InvalidArgument, match="period must be one of day, week, month, not 'year'"):
        period_starts(local(2020, 1, 1), local(2024, 1, 1), "year", BERLIN)
