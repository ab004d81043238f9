"""The fleet view and the alerts, against real databases: states, counts, rates, utilisation, each kind of
alert, and a number of queries that does not grow with the fleet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, update

import billing
from agent.gpu import GpuReading
from agent.identity import Identity
from agent.sampler import SampleData
from collector.accounts.wallets import top_up
from collector.core.clock import to_us
from collector.core.job_board import JobBoard
from collector.db.database import Database
from collector.db.models import JobFailure, Machine, ReportGap
from collector.metering.ingest import Ack, AckStatus, store_reports
from collector.metering.rejections import record_rejections
from collector.sessions.alerts import alerts
from collector.sessions.fleet import fleet
from collector.sessions.plans import create_plan
from collector.sessions.rating import rate_sessions
from collector.sessions.rentals import revoke_machine, start_session, stop_session
from tests.collector.helpers import enrolled_machine, incoming, sample
from tests.collector.test_invoicing import report_every_second

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW = START + timedelta(seconds=90)
WINDOW = timedelta(seconds=30)
SECOND = 1_000_000


def gpu(index: int, busy: int) -> GpuReading:
    return GpuReading(index, f"GPU-{index}", busy, 0, 2 * 10**9, 8 * 10**9, 100_000, 1000, ())


def with_gpus(s: SampleData) -> SampleData:
    """The sample with two GPUs: GPU 0 at 40 and 60 % in turns, GPU 1 at 100 %."""
    return replace(s, gpus=(gpu(0, 40 + s.start_us // SECOND % 2 * 20), gpu(1, 100)))


def set_host(database: Database, machine: Identity, host: str) -> None:
    change = update(Machine).where(Machine.agent_id == machine.agent_id).values(host_id=host)
    database.call(lambda db: db.execute(change))


@pytest.fixture
def world(database: Database) -> dict[str, Identity]:
    """m1 (host h1) rented by alice and reporting with two GPUs; m2 (h1) rented by bob in USD, silent;
    m3 (h2) online, not rented; m4 revoked."""
    before = START - timedelta(hours=1)
    machines = {name: enrolled_machine(database, before) for name in ("m1", "m2", "m3", "m4")}
    for name, host in (("m1", "h1"), ("m2", "h1"), ("m3", "h2")):
        set_host(database, machines[name], host)
    database.call(create_plan, billing.simple_document("p", "EUR", {"standard": "36.00"}), before)
    database.call(create_plan, billing.simple_document("u", "USD", {"standard": "7.20"}), before)
    database.call(
        start_session, agent_id=machines["m1"].agent_id, renter_id="alice", plan_name="p", now=START
    )
    database.call(start_session, agent_id=machines["m2"].agent_id, renter_id="bob", plan_name="u", now=START)
    base = to_us(START) // SECOND
    samples = [with_gpus(sample(base + i, base + i + 1)) for i in range(60)]
    reports = [incoming(machines["m1"], 1, samples[:50]), incoming(machines["m1"], 2, samples[50:])]
    database.call(store_reports, reports, START + timedelta(seconds=70))
    report_every_second(database, machines["m3"], START + timedelta(seconds=70), 10)
    database.call(revoke_machine, machines["m4"].agent_id, "stolen", START)
    return machines


def test_the_fleet_shows_states_sessions_rates_and_utilisation(
    database: Database, world: dict[str, Identity]
) -> None:
    view = database.call(fleet, NOW, WINDOW)
    by_id = {m.machine.agent_id: m for m in view.machines}
    m1, m2, m3, m4 = (by_id[world[name].agent_id] for name in ("m1", "m2", "m3", "m4"))
    assert (m1.online, m2.online, m3.online, m4.online) == (True, False, True, False)
    assert (m1.rental.renter_id, m2.rental.renter_id, m3.rental, m4.rental) == ("alice", "bob", None, None)
    assert (m1.rate_per_hour_minor, m2.rate_per_hour_minor, m3.rate_per_hour_minor) == (3600, 720, 0)
    assert m1.cpu_utilization == pytest.approx(0.1)  # the samples' own share, over the last report only
    assert m1.gpu_utilization_percent == (50, 100)  # 40 and 60 % alternating over the last ten seconds
    assert m3.gpu_utilization_percent == ()
    counts = view.classes["standard"]
    assert (counts.online, counts.offline, counts.rented, counts.revoked) == (2, 1, 2, 1)
    assert view.revenue_per_hour_minor == {"EUR": 3600, "USD": 720}
    hosted = database.call(fleet, NOW, WINDOW, "h1")
    assert sorted(m.machine.agent_id for m in hosted.machines) == sorted(
        [world["m1"].agent_id, world["m2"].agent_id]
    )
    assert database.call(fleet, NOW, WINDOW, "nobody").machines == []


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def test_fleet_and_alerts_take_the_same_queries_for_ten_times_the_machines(
    database: Database, world: dict[str, Identity]
) -> None:
    def queries(call: Callable[[], Any]) -> int:
        with statements(database) as seen:
            call()
        return len(seen)

    board = JobBoard()
    look = lambda: database.call(fleet, NOW, WINDOW)  # noqa: E731
    warn = lambda: database.call(alerts, NOW, online_window=WINDOW, low_balance=Decimal(5), board=board)  # noqa: E731
    small = (queries(look), queries(warn))
    for n in range(30):
        machine = enrolled_machine(database, START - timedelta(hours=1))
        database.call(top_up, f"r{n}", billing.Money(100, "EUR"), f"k{n}", START)
        database.call(start_session, agent_id=machine.agent_id, renter_id=f"r{n}", plan_name="p", now=START)
        report_every_second(database, machine, START, 3)
    assert (queries(look), queries(warn)) == small
    assert len(database.call(fleet, NOW, WINDOW).machines) == 34


def test_alerts_name_what_needs_attention(database: Database, world: dict[str, Identity]) -> None:
    m1, m2 = world["m1"].agent_id, world["m2"].agent_id
    refused = [Ack(7, AckStatus.FORGED, "report signature does not verify", "bad_signature")] * 2
    database.call(
        record_rejections, m1, [*refused, Ack(8, AckStatus.ACCEPTED)], START + timedelta(seconds=10)
    )
    database.call(record_rejections, m1, refused, START - timedelta(days=2))  # too old to alert
    database.call(lambda db: db.add(ReportGap(agent_id=m1, reported_in=2, kind="spool_lost", reason="disk",
                                              received_at=START + timedelta(seconds=20))))  # fmt: skip
    database.call(top_up, "carol", billing.Money(50, "EUR"), "c1", START)  # 0.50 EUR, below 5.00
    carol = enrolled_machine(database, START - timedelta(hours=1))
    database.call(start_session, agent_id=carol.agent_id, renter_id="carol", plan_name="p", now=START)
    report_every_second(database, carol, START + timedelta(seconds=70), 10)
    database.call(top_up, "dave", billing.Money(5, "EUR"), "d1", START)  # 0.05 EUR, then 0.10 spent
    dave = enrolled_machine(database, START - timedelta(hours=1))
    session = database.call(start_session, agent_id=dave.agent_id, renter_id="dave", plan_name="p", now=START)
    report_every_second(database, dave, START, 10)
    database.call(stop_session, session.id, START + timedelta(seconds=10))
    database.call(rate_sessions, NOW)
    failure = JobFailure(
        job="close-invoices",
        subject="renter erin",
        attempts=3,
        first_failed_at=START,
        last_failed_at=NOW,
        retry_at=NOW,
        error="the plan cannot price it",
        error_id="abc",
    )
    database.call(lambda db: db.add(failure))
    board = JobBoard()
    board.add("collect-payments", timedelta(minutes=1)).error = "internal error in job collect-payments"
    found = database.call(alerts, NOW, online_window=WINDOW, low_balance=Decimal(5), board=board)
    summary = [(a.kind, a.subject, a.count) for a in found]
    assert summary == [
        ("machine_offline", m2, 1),
        ("reports_rejected", m1, 2),
        ("report_gaps", m1, 1),
        ("balance_low", "carol", 1),
        ("balance_low", "dave", 0),
        ("job_failing", "close-invoices", 1),
        ("job_failing", "collect-payments", 1),
    ]
    text = {a.subject + a.kind: a.message for a in found}
    assert f"machine {m2} has not reported at all while session" in text[m2 + "machine_offline"]
    assert "refused (bad_signature)" in text[m1 + "reports_rejected"]
    assert (
        text["carolbalance_low"]
        == "the wallet of carol is below 5.00 EUR: 0.40 EUR spendable, 1 session(s) running"
    )
    assert (
        text["davebalance_low"]
        == "the wallet of dave is overdrawn: -0.05 EUR spendable, 0 session(s) running"
    )
    assert "renter erin: the plan cannot price it" in text["close-invoicesjob_failing"]
