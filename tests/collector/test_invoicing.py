"""Rating and invoicing on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import select

import billing
from agent.identity import Identity
from collector.accounts.renters import update_renter
from collector.config import CollectorSettings
from collector.core.clock import to_us
from collector.core.errors import FailedPrecondition, InvalidArgument
from collector.db.database import Database
from collector.db.models import Invoice, Notification, Renter
from collector.delivery.documents import render_invoice
from collector.invoicing import invoices
from collector.invoicing.invoices import (
    close_due_invoices,
    close_invoices,
    list_invoices,
    next_boundary,
    renters_due,
)
from collector.metering.ingest import store_reports
from collector.metering.retention import purge_raw_data
from collector.sessions.plans import add_version, create_plan
from collector.sessions.rating import rate_sessions
from collector.sessions.rentals import get_session, start_session, stop_session
from protos.rentmeter.v1 import renters_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import SECOND, enrolled_machine, incoming, sample

HOUR = timedelta(hours=1)
START = datetime(2026, 11, 25, 9, 40, tzinfo=UTC)  # 20 minutes before an hour boundary
PLAN = billing.simple_document("p", "EUR", {"standard": "36.00"}, "1.00", "2.00")  # 1 cent a second


@pytest.fixture
def machine(database: Database) -> Identity:
    machine = enrolled_machine(database, START - HOUR)
    database.call(create_plan, PLAN, START - HOUR)
    return machine


def report_every_second(
    database: Database, machine: Identity, first: datetime, seconds: int, rx: int = 0, sequence: int = 1
) -> None:
    """One-second samples over [first, first + seconds), ten per report numbered from `sequence`, `rx`
    bytes each."""
    base = to_us(first) / SECOND
    samples = [sample(base + i, base + i + 1, rx=rx) for i in range(seconds)]
    reports = [
        incoming(machine, sequence + n, samples[i : i + 10]) for n, i in enumerate(range(0, seconds, 10))
    ]
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
    assert database.call(rate_sessions, end).processed == 1
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


def _night_plan(name: str, effective_from: str = "", day: str = "36.00") -> str:
    """Day price `day`/h, night (22:00-06:00 UTC) 18.00/h."""
    head = f'name = "{name}"\ncurrency = "EUR"\n' + (
        f"effective_from = {effective_from}\n" if effective_from else ""
    )
    return (
        head
        + f"""
[[windows]]
name = "night"
from = "22:00"
to = "06:00"

[[prices]]
meter = "time"
price = "{day}"

[[prices]]
meter = "time"
window = "night"
price = "18.00"
"""
    )


def test_a_plan_version_and_a_window_split_a_stored_session(database: Database, machine: Identity) -> None:
    """Measured usage is priced per segment: day rate until 10:30 (v1: 36.00/h = 1 ct/s), then v2's day rate
    72.00/h; the session is invoiced in hourly periods and the invoices add up to the whole rating."""
    database.call(create_plan, _night_plan("v"), START - HOUR)
    database.call(add_version, "v", _night_plan("v", "2026-11-25T10:30:00Z", day="72.00"), START - HOUR)
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r5", plan_name="v", now=START)
    report_every_second(database, machine, START, 60 * 60)  # 09:40 to 10:40
    database.call(stop_session, rental.id, START + HOUR)
    database.call(rate_sessions, START + HOUR)
    # 50 min at 1 ct/s (30.00) + 10 min at 2 ct/s (12.00)
    assert database.call(get_session, rental.id).cost_minor == 4200
    invoices = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    assert [i.total_minor for i in invoices] == [1200, 3000]  # 09:40-10:00, 10:00-11:00
    assert [(line.meter, line.quantity, line.amount_minor) for line in invoices[1].lines] == [
        ("time", "1800", 1800),
        ("time@v2", "600", 1200),
    ]


def test_plan_versions_are_checked(database: Database, machine: Identity) -> None:
    database.call(create_plan, _night_plan("w"), START - HOUR)
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r6", plan_name="w", now=START)
    report_every_second(database, machine, START, 60)
    database.call(stop_session, rental.id, START + timedelta(minutes=1))
    database.call(close_invoices, START + 4 * HOUR, period=HOUR, grace=timedelta(0))  # invoiced to 10:00
    with pytest.raises(FailedPrecondition, match="invoiced until 2026-11-25T10:00:00"):
        database.call(add_version, "w", _night_plan("w", "2026-11-25T09:50:00Z"), START)
    database.call(add_version, "w", _night_plan("w", "2026-11-25T12:00:00Z"), START)
    with pytest.raises(FailedPrecondition, match="later than the latest version"):
        database.call(add_version, "w", _night_plan("w", "2026-11-25T11:00:00Z"), START)
    with pytest.raises(InvalidArgument, match="keep its name and currency"):
        database.call(add_version, "w", _night_plan("w", "2026-12-01").replace("EUR", "USD"), START)


def test_sessions_take_their_class_from_the_plan_and_their_terms_are_checked(
    database: Database, machine: Identity
) -> None:
    document = _night_plan("t") + '[[classes]]\nname = "any"\n[service_levels]\npremium = "2"\n'
    database.call(create_plan, document, START - HOUR)
    with pytest.raises(FailedPrecondition, match="service level 'gold' is not offered"):
        database.call(start_session, agent_id=machine.agent_id, renter_id="r7", plan_name="t", now=START,
                      terms=billing.RentalTerms("", service_level="gold"))  # fmt: skip
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r7", plan_name="t", now=START,
                           terms=billing.RentalTerms("", service_level="premium"))  # fmt: skip
    assert (rental.machine_class, rental.service_level) == ("any", "premium")
    report_every_second(database, machine, START, 100)
    database.call(rate_sessions, START + timedelta(seconds=100))
    assert database.call(get_session, rental.id).cost_minor == 200  # 100 s x 1 ct x 2


def test_the_scheduled_job_invoices_renters_in_batches_and_only_once(
    database: Database, machine: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invoices, "INVOICE_BATCH", 2)
    settings = CollectorSettings(db_url=database.url, invoice_period=HOUR, invoice_grace=timedelta(minutes=5))
    for offset, renter in enumerate(("a", "b", "c")):
        begin = START + timedelta(seconds=offset)
        rental = database.call(
            start_session, agent_id=machine.agent_id, renter_id=renter, plan_name="p", now=begin
        )
        database.call(stop_session, rental.id, begin + timedelta(seconds=1))
    report_every_second(database, machine, START, 3)
    later = START + 2 * HOUR
    assert asyncio.run(close_due(database, settings, later)) == 3  # in two transactions
    assert asyncio.run(close_due(database, settings, later)) == 0
    assert database.call(renters_due, later, settings.invoice_grace) == []


def test_a_monthly_cycle_anchored_to_the_account(database: Database, machine: Identity) -> None:
    """A renter billed monthly from the 15th at 09:40: one invoice for 15 Nov - 15 Dec, once."""
    anchor = datetime(2026, 11, 15, 9, 40, tzinfo=UTC)
    database.call(update_renter, "m1", anchor, billing_cycle="monthly", cycle_anchor=anchor)
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="m1", plan_name="p", now=START)
    report_every_second(database, machine, START, 60)
    database.call(stop_session, rental.id, START + timedelta(minutes=1))
    settings = CollectorSettings(db_url=database.url, invoice_period=HOUR, invoice_grace=timedelta(minutes=5))
    assert asyncio.run(close_due(database, settings, START + 2 * HOUR)) == 0  # month not over
    december = datetime(2026, 12, 15, 9, 50, tzinfo=UTC)
    assert asyncio.run(close_due(database, settings, december)) == 1
    assert asyncio.run(close_due(database, settings, december)) == 0
    (invoice,) = database.call(list_invoices, "m1")
    assert (invoice.period_start, invoice.period_end) == (anchor, datetime(2026, 12, 15, 9, 40, tzinfo=UTC))
    assert invoice.total_minor == 60 + 0  # 60 s at 1 ct/s
    assert database.call(lambda db: db.get(Renter, "m1").next_invoice_at) == datetime(
        2027, 1, 15, 9, 40, tzinfo=UTC
    )
    with pytest.raises(InvalidArgument, match="billing_cycle must be one of"):
        database.call(update_renter, "m1", december, billing_cycle="yearly")


def test_pay_as_you_go_invoices_each_session_when_it_ends(database: Database, machine: Identity) -> None:
    database.call(update_renter, "pg", START - HOUR, billing_cycle="session")
    settings = CollectorSettings(
        db_url=database.url, invoice_period=timedelta(days=1), invoice_grace=timedelta(minutes=5)
    )
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="pg", plan_name="p", now=START)
    report_every_second(database, machine, START, 30)
    assert asyncio.run(close_due(database, settings, START + HOUR)) == 0  # still running
    end = START + timedelta(seconds=30)
    database.call(stop_session, rental.id, end)
    assert asyncio.run(close_due(database, settings, end + timedelta(minutes=1))) == 0  # grace
    assert asyncio.run(close_due(database, settings, end + timedelta(minutes=6))) == 1
    assert asyncio.run(close_due(database, settings, end + timedelta(minutes=7))) == 0
    (invoice,) = database.call(list_invoices, "pg")
    assert (invoice.period_end, invoice.total_minor) == (end, 30)


def test_two_collectors_closing_at_once_make_one_invoice(database: Database, machine: Identity) -> None:
    """Two collectors on one database run the invoicing job at the same moment: the renter's row lock and
    the unique period make one of them find nothing left to do."""
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="two", plan_name="p", now=START
    )
    report_every_second(database, machine, START, 20)
    database.call(stop_session, rental.id, START + timedelta(seconds=20))
    settings = CollectorSettings(db_url=database.url, invoice_period=HOUR, invoice_grace=timedelta(0))
    others = [Database(database.url, migrate=False) for _ in range(2)]
    made: list[int] = []
    errors: list[Exception] = []

    def run(db: Database) -> None:
        try:
            made.append(asyncio.run(close_due(db, settings, START + 2 * HOUR)))
        except Exception as exc:  # a lost race may also end in a unique-constraint error: nothing written
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for db in others:
        db.close()
    assert sum(made) == 1 and len(database.call(list_invoices, "two")) == 1, (made, errors)


def test_raw_data_is_deleted_after_retention_once_invoiced(database: Database, machine: Identity) -> None:
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="old", plan_name="p", now=START
    )
    report_every_second(database, machine, START, 60)
    database.call(stop_session, rental.id, START + timedelta(minutes=1))
    later = START + timedelta(days=200)
    assert database.call(purge_raw_data, later, timedelta(days=180)).produced == 0  # not invoiced yet: kept
    (invoice,) = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    assert database.call(purge_raw_data, START + 2 * HOUR, timedelta(days=180)).produced == 0  # too recent
    assert database.call(purge_raw_data, later, timedelta(days=180)).produced == 60 + 6  # samples and reports
    assert database.call(lambda db: db.get(Invoice, invoice.id).total_minor) == 60  # the invoice stays
    explained = database.call(lambda db: [(i.period_start, i.total_minor) for i in list_invoices(db, "old")])
    assert explained == [(START, 60)]


async def close_due(database: Database, settings: CollectorSettings, now: datetime) -> int:
    """The invoicing job as the scheduler runs it."""
    period, grace, prefix = settings.invoice_period, settings.invoice_grace, settings.invoice_prefix
    outcome = await close_due_invoices(database, now, period=period, grace=grace, prefix=prefix)
    return outcome.produced


SHANGHAI_MAY = (datetime(2026, 4, 30, 16, 0, tzinfo=UTC), datetime(2026, 5, 31, 16, 0, tzinfo=UTC))


def test_a_monthly_invoice_covers_the_local_month_of_the_renters_time_zone(database: Database) -> None:
    """May in Asia/Shanghai is 30 April 16:00 UTC to 31 May 16:00 UTC: a session on the evening of 31 May
    in Shanghai is on May's invoice, one half an hour after local midnight (still May in UTC) is not."""
    opened = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)
    machine = enrolled_machine(database, opened)
    database.call(create_plan, PLAN, opened)
    may_first = SHANGHAI_MAY[0]  # 1 May 00:00 in Shanghai
    database.call(update_renter, "张三", opened, billing_cycle="monthly", cycle_anchor=may_first,
                  time_zone="Asia/Shanghai", email="zhang@example.cn")  # fmt: skip
    for first, seconds, sequence in (
        (datetime(2026, 5, 31, 15, 0, tzinfo=UTC), 60, 1),  # 23:00 on 31 May in Shanghai
        (datetime(2026, 5, 31, 16, 30, tzinfo=UTC), 30, 7),  # 00:30 on 1 June in Shanghai
    ):
        rental = database.call(
            start_session, agent_id=machine.agent_id, renter_id="张三", plan_name="p", now=first
        )
        report_every_second(database, machine, first, seconds, sequence=sequence)
        database.call(stop_session, rental.id, first + timedelta(seconds=seconds))
    june_second = datetime(2026, 6, 2, tzinfo=UTC)
    (invoice,) = database.call(close_invoices, june_second, period=timedelta(days=1), grace=timedelta(0))
    assert (invoice.period_start, invoice.period_end) == SHANGHAI_MAY
    assert (invoice.total_minor, invoice.time_zone) == (60, "Asia/Shanghai")  # 60 s at 1 ct/s
    renter = database.call(lambda db: db.get(Renter, "张三"))
    assert renter.next_invoice_at == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 1 July 00:00 local
    local_may = "2026-05-01 00:00 to 2026-06-01 00:00 Asia/Shanghai (UTC+08:00)"
    mails = database.call(lambda db: [n.payload for n in db.scalars(select(Notification))])
    assert [m["text"] for m in mails if m.get("to")] == [
        f"Invoice {invoice.number} for {local_may}: 0.60 EUR. The invoice is attached."
    ]
    document = render_invoice(database.call(lambda db: db.get(Invoice, invoice.id)), "csv")
    assert f"period,{local_may}" in document.content.decode().splitlines()


def test_the_collector_period_ends_at_local_midnight_in_the_renters_zone(
    database: Database, machine: Identity
) -> None:
    """Without a cycle, a one-day collector period ends at midnight in Berlin (23:00 UTC in winter)."""
    database.call(update_renter, "b1", START - HOUR, time_zone="Europe/Berlin")
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="b1", plan_name="p", now=START)
    report_every_second(database, machine, START, 60)
    database.call(stop_session, rental.id, START + timedelta(minutes=1))
    day = timedelta(days=1)
    (invoice,) = database.call(close_invoices, START + day, period=day, grace=timedelta(0))
    assert (invoice.period_start, invoice.period_end) == (
        START - HOUR,
        datetime(2026, 11, 25, 23, tzinfo=UTC),
    )


def test_time_zones_are_checked_and_a_change_reworks_the_next_period_end(
    database: Database, machine: Identity
) -> None:
    database.call(update_renter, "z1", START, time_zone="Asia/Tokyo")
    database.call(lambda db: setattr(db.get(Renter, "z1"), "next_invoice_at", START))
    for bad in ("Mars/Olympus_Mons", "localtime", "asia/tokyo", "../../etc/passwd", "x" * 1000):
        with pytest.raises(InvalidArgument, match=r"time_zone: .* is not an IANA time zone"):
            database.call(update_renter, "z1", START, time_zone=bad)
    renter = database.call(update_renter, "z1", START, email="z1@example.org")  # the zone is kept
    assert (renter.time_zone, renter.next_invoice_at) == ("Asia/Tokyo", START)
    renter = database.call(update_renter, "z1", START, time_zone="")  # none again: UTC
    assert (renter.time_zone, renter.next_invoice_at) == ("", None)


def test_the_time_zone_over_grpc(admin: AdminClient) -> None:
    set_zone = renters_pb2.UpdateRenterRequest(renter="r-tz", billing_cycle="daily", time_zone="Asia/Tokyo")
    assert admin.renters.UpdateRenter(set_zone).time_zone == "Asia/Tokyo"
    keep = renters_pb2.UpdateRenterRequest(renter="r-tz", email="tz@example.org")
    assert admin.renters.UpdateRenter(keep).time_zone == "Asia/Tokyo"
    assert admin.renters.GetRenter(renters_pb2.GetRenterRequest(renter="r-tz")).time_zone == "Asia/Tokyo"
    with pytest.raises(grpc.RpcError) as refused:
        admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter="r-tz", time_zone="Asia/Peking"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == (
        "time_zone: 'Asia/Peking' is not an IANA time zone such as Asia/Shanghai or UTC"
    )
