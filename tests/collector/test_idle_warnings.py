"""The renter is warned once per idle stretch, a minute before an idle plan pauses billing: the rating job
on a real database (SQLite and PostgreSQL) over signed reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from agent.identity import Identity
from collector.core.clock import to_us
from collector.db.database import Database
from collector.metering.ingest import store_reports
from collector.sessions.balances import IDLE_WARNING, rate_and_enforce
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session
from tests.collector.helpers import SECOND, enrolled_machine, incoming, sample

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PLAN = (
    'name = "idle"\ncurrency = "EUR"\n[time.hourly]\nstandard = "36.00"\n'
    '[idle]\nbelow = "5"\nafter = "10m"\nrate = "0"\n'
)


@pytest.fixture
def machine(database: Database) -> Identity:
    machine = enrolled_machine(database, START - timedelta(hours=1))
    database.call(create_plan, PLAN, START - timedelta(hours=1))
    return machine


class Reports:
    def __init__(self, database: Database, machine: Identity) -> None:
        self.database, self.machine, self.sequence = database, machine, 0

    def send(self, first_s: int, seconds: int, cpu: float) -> None:
        """One-second samples from START + first_s, the CPU `cpu` busy, sixty to a signed report."""
        base = to_us(START) / SECOND + first_s
        samples = [replace(sample(base + i, base + i + 1), cpu_utilization=cpu) for i in range(seconds)]
        reports = []
        for i in range(0, seconds, 60):
            self.sequence += 1
            reports.append(incoming(self.machine, self.sequence, samples[i : i + 60]))
        self.database.call(store_reports, reports, START + timedelta(seconds=first_s + seconds))


def warnings_at(database: Database, seconds: int) -> list[str]:
    run = database.call(rate_and_enforce, START + timedelta(seconds=seconds), (Decimal(1),), timedelta(0))
    return [event.message for event in run.events if event.kind == IDLE_WARNING]


def test_warned_once_a_minute_before_billing_pauses_and_again_after_a_busy_break(
    database: Database, machine: Identity
) -> None:
    database.call(start_session, agent_id=machine.agent_id, renter_id="r", plan_name="idle", now=START)
    reports = Reports(database, machine)
    reports.send(0, 60, cpu=0.5)  # busy for a minute
    reports.send(60, 480, cpu=0.01)  # idle 8 minutes (1 % < 5 %)
    assert warnings_at(database, 540) == []  # 8 min: not yet within a minute of the 10
    reports.send(540, 70, cpu=0.01)  # 9 min 10 s idle
    assert warnings_at(database, 610) == ["idle for 9 min: after 10 min idle billing pauses"]
    reports.send(610, 30, cpu=0.01)
    assert warnings_at(database, 640) == []  # once per stretch
    reports.send(645, 555, cpu=0.01)  # after 5 s without reports (no busy sample): 9 min 15 s more idle
    assert warnings_at(database, 1200) == []  # the same stretch: a pause in the reports does not end it
    reports.send(1200, 10, cpu=0.5)  # busy: the stretch ends
    reports.send(1210, 560, cpu=0.01)  # a new idle stretch of 9 min 20 s
    assert warnings_at(database, 1770) == ["idle for 9 min: after 10 min idle billing pauses"]


def test_a_plan_without_idle_rules_warns_nobody(database: Database, machine: Identity) -> None:
    database.call(
        create_plan, PLAN.replace('"idle"', '"busy"').split("[idle]")[0], START - timedelta(hours=1)
    )
    database.call(start_session, agent_id=machine.agent_id, renter_id="r", plan_name="busy", now=START)
    Reports(database, machine).send(0, 600, cpu=0.0)
    assert warnings_at(database, 600) == []
