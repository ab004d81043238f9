"""Prepaid wallets on the ledger, against a real database: holds, alerts, the stop at zero, invoices
charged to the wallet, and the ledger check."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import event

import billing
from agent.identity import Identity
from collector.accounts.wallets import check_ledger, top_up, wallet_state
from collector.config import CollectorSettings
from collector.core.errors import FailedPrecondition, InvalidArgument
from collector.db.database import Database
from collector.delivery.documents import render_invoice
from collector.invoicing.invoices import close_invoices, get_invoice
from collector.sessions.balances import (
    LOW_BALANCE,
    STOPPED,
    BalanceEvent,
    enforce_balances,
    rate_and_enforce,
    spendable_minor,
)
from collector.sessions.live import live_cost
from collector.sessions.plans import create_plan
from collector.sessions.rentals import get_session, start_session, stop_session
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import report_every_second

HOUR = timedelta(hours=1)
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SETTINGS = CollectorSettings(low_balance_alerts="0.30,0.10", balance_grace=timedelta(seconds=10))


def events_at(database: Database, seconds: int) -> list[BalanceEvent]:
    """Run the rating job `seconds` after START; what the machines are told."""
    now = START + timedelta(seconds=seconds)
    return database.call(rate_and_enforce, now, SETTINGS.alert_levels(), SETTINGS.balance_grace).events


PLAN = billing.simple_document("p", "EUR", {"standard": "36.00"})  # 1 cent a second


@pytest.fixture
def machine(database: Database) -> Identity:
    machine = enrolled_machine(database, START - HOUR)
    database.call(create_plan, PLAN, START - HOUR)
    return machine


def euros(text: str) -> billing.Money:
    return billing.Money.of(Decimal(text), "EUR")


def test_a_small_balance_alerts_then_stops_the_session(database: Database, machine: Identity) -> None:
    database.call(top_up, "ann", euros("0.50"), "pay-1", START - HOUR)
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="ann", plan_name="p", now=START
    )
    assert rental.hold_minor == 50  # 15 minutes would cost 9.00: all that is available is held
    report_every_second(database, machine, START, 15)
    assert events_at(database, 15) == []  # 0.35 left
    report_every_second(database, machine, START + timedelta(seconds=15), 10, sequence=3)
    (first,) = events_at(database, 25)  # below 0.30
    assert first.rental.agent_id == machine.agent_id and first.kind == LOW_BALANCE
    # 0.25 at 1 cent a second (what the last reports cost, and the plan's rate) lasts 25 s
    assert first.message == "balance low: 0.25 EUR left; at your current use your balance lasts 25 s"
    report_every_second(database, machine, START + timedelta(seconds=25), 20, sequence=4)
    (alert,) = events_at(database, 45)  # below 0.10
    assert alert.message == "balance low: 0.05 EUR left; at your current use your balance lasts 5 s"
    assert events_at(database, 46) == []  # alerted once
    report_every_second(database, machine, START + timedelta(seconds=45), 10, sequence=6)
    (exhausted,) = events_at(database, 55)
    assert "exhausted" in exhausted.message and exhausted.kind == LOW_BALANCE
    assert events_at(database, 60) == []  # within grace
    (stop,) = events_at(database, 65)
    assert stop.kind == STOPPED and stop.message == "balance exhausted"
    stopped = database.call(get_session, rental.id)
    assert stopped.ended_at == START + timedelta(seconds=65) and stopped.hold_minor == 0
    # The invoice takes the 55 covered seconds from the wallet: 0.50 - 0.55 = -0.05 (the grace is owed).
    (invoice,) = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    assert invoice.total_minor == 55
    state = database.call(wallet_state, "ann", "EUR")
    assert (state.balance_minor, state.held_minor) == (-5, 0)
    assert database.call(spendable_minor, "ann", "EUR") == -5
    check = database.call(check_ledger)
    assert check.balanced and check.debits_minor == check.credits_minor == {"EUR": 50 + 50 + 50 + 55}


def test_a_spent_wallet_cannot_start_and_a_top_up_is_idempotent(
    database: Database, machine: Identity
) -> None:
    database.call(top_up, "bob", euros("0.02"), "pay-7", START)
    database.call(top_up, "bob", euros("0.02"), "pay-7", START)  # the same payment, retried
    assert database.call(wallet_state, "bob", "EUR").balance_minor == 2
    first = database.call(start_session, agent_id=machine.agent_id, renter_id="bob", plan_name="p", now=START)
    report_every_second(database, machine, START, 5)
    database.call(stop_session, first.id, START + timedelta(seconds=5))
    events_at(database, 6)
    assert database.call(spendable_minor, "bob", "EUR") == 2 - 5
    with pytest.raises(FailedPrecondition, match=r"has -0\.03 EUR available: top it up"):
        database.call(
            start_session, agent_id=machine.agent_id, renter_id="bob", plan_name="p", now=START + HOUR
        )
    database.call(top_up, "bob", euros("1.00"), "pay-8", START + HOUR)
    second = database.call(
        start_session, agent_id=machine.agent_id, renter_id="bob", plan_name="p", now=START + HOUR
    )
    assert second.hold_minor == 97


def test_live_cost_never_below_the_bill_and_time_left(database: Database, machine: Identity) -> None:
    database.call(top_up, "dan", euros("10.00"), "pay-9", START)
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="dan", plan_name="p", now=START
    )
    report_every_second(database, machine, START, 60)
    live = database.call(live_cost, rental.id, START + timedelta(seconds=90))
    # 60 s reported (0.60) + 30 s not yet reported at 36.00/h (0.30): what the bill will be if covered.
    assert (live.rental.cost_minor, live.estimated_minor, live.rate_per_hour_minor) == (60, 90, 3600)
    assert live.prepaid and live.spendable_minor == 1000 - 90
    assert live.time_left == timedelta(seconds=910)  # 9.10 at 1 ct/s


def test_invoice_numbers_have_no_gaps_and_documents_show_every_line(
    database: Database, machine: Identity
) -> None:
    for offset, renter in enumerate(("r1", "r2")):
        begin = START + timedelta(seconds=offset * 10)
        rental = database.call(
            start_session, agent_id=machine.agent_id, renter_id=renter, plan_name="p", now=begin
        )
        report_every_second(database, machine, begin, 10, sequence=offset + 1)
        database.call(stop_session, rental.id, begin + timedelta(seconds=10))

    def fails_after_numbering(db):  # type: ignore[no-untyped-def]
        close_invoices(db, START + 2 * HOUR, period=HOUR, grace=timedelta(0), renter_id="r1")
        raise RuntimeError("the transaction is rolled back")

    with pytest.raises(RuntimeError):
        database.call(fails_after_numbering)
    invoices = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    assert [i.number for i in invoices] == ["RM-000001", "RM-000002"]  # the rolled-back number is reused
    invoice = database.call(lambda db: get_invoice(db, invoices[0].id))
    pdf = render_invoice(invoice, "pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert pdf.filename == "RM-000001.pdf" and pdf.content.startswith(b"%PDF")
    for line in invoice.lines:
        assert line.description in text and str(billing.Money(line.amount_minor, "EUR")) in text
    assert "total: 0.10 EUR" in text
    assert b"<td>0.10 EUR</td>" in render_invoice(invoice, "html").content
    csv_rows = render_invoice(invoice, "csv").content.decode().splitlines()
    assert "invoice,RM-000001" in csv_rows and any(row.endswith(",0.10 EUR") for row in csv_rows)
    with pytest.raises(InvalidArgument, match="format must be one of pdf, html, csv"):
        render_invoice(invoice, "docx")


def test_enforcing_balances_reads_a_renters_sessions_once_per_pass(database: Database) -> None:
    """A renter with many running sessions: the pass reads its sessions a fixed number of times, however
    many there are (it used to reload all of them for each one)."""
    database.call(create_plan, PLAN, START - HOUR)
    database.call(top_up, "fay", euros("500.00"), "pay-fay", START - HOUR)

    def session_reads(count: int) -> int:
        for _ in range(count):
            machine = enrolled_machine(database, START - HOUR)
            database.call(start_session, agent_id=machine.agent_id, renter_id="fay", plan_name="p", now=START)
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(database.engine, "before_cursor_execute", listener)
        try:
            database.call(enforce_balances, START + HOUR, SETTINGS.alert_levels(), SETTINGS.balance_grace)
        finally:
            event.remove(database.engine, "before_cursor_execute", listener)
        return sum("FROM rental_sessions" in s for s in statements)

    assert session_reads(3) == session_reads(6) == 3  # the open sessions, then spendable and burn once
