"""Paying invoices: by bank transfer (marked paid), and by card through Stripe's SDK against a local
stand-in for Stripe's API, with dunning after a decline."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import billing
from collector.accounts.renters import update_renter
from collector.accounts.wallets import account_balance, check_ledger
from collector.core.errors import FailedPrecondition, InvalidArgument
from collector.db.database import Database
from collector.db.models import Invoice, Payment
from collector.invoicing.invoices import close_invoices
from collector.payments.collection import DUNNING, collect_due, mark_paid
from collector.payments.providers import StripeProvider
from collector.payments.webhooks import handle_stripe_event
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session, stop_session
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import report_every_second

HOUR = timedelta(hours=1)
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class StripeStandIn(ThreadingHTTPServer):
    """Answers POST /v1/payment_intents like Stripe: declines the first `declines` requests (402
    card_declined), then succeeds; the same Idempotency-Key gets the same answer."""

    def __init__(self, declines: int = 0) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        self.declines = declines

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                form = dict(
                    urllib.parse.parse_qsl(
                        handler.rfile.read(int(handler.headers["Content-Length"])).decode()
                    )
                )
                key = handler.headers["Idempotency-Key"]
                self.requests.append((key, form))
                if key not in self.answers:
                    if len(self.answers) < self.declines:
                        error = {
                            "type": "card_error",
                            "code": "card_declined",
                            "message": "Your card was declined.",
                        }
                        self.answers[key] = (402, {"error": error})
                    else:
                        intent = {
                            "id": f"pi_{len(self.answers) + 1}",
                            "object": "payment_intent",
                            "status": "succeeded",
                            "amount": int(form["amount"]),
                            "currency": form["currency"],
                        }
                        self.answers[key] = (200, intent)
                status, body = self.answers[key]
                payload = json.dumps(body).encode()
                handler.send_response(status)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(payload)))
                handler.end_headers()
                handler.wfile.write(payload)

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


PLAIN = billing.simple_document("p", "EUR", {"standard": "36.00"})  # 1 cent a second


def invoice_for(database: Database, renter: str, seconds: int = 30, document: str = PLAIN) -> Invoice:
    machine = enrolled_machine(database, START - HOUR)
    database.call(create_plan, document, START - HOUR)
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id=renter, plan_name="p", now=START
    )
    report_every_second(database, machine, START, seconds)
    database.call(stop_session, rental.id, START + timedelta(seconds=seconds))
    (invoice,) = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    return invoice


def test_a_bank_transfer_is_marked_paid_once(database: Database) -> None:
    invoice = invoice_for(database, "ola")
    assert database.call(account_balance, "receivable:ola", "EUR") == 30  # owed
    with pytest.raises(InvalidArgument, match="reference is required"):
        database.call(mark_paid, invoice.id, " ", START + 3 * HOUR)
    paid = database.call(mark_paid, invoice.id, "SEPA-2026-11-0042", START + 3 * HOUR)
    assert paid.paid_at == START + 3 * HOUR
    with pytest.raises(FailedPrecondition, match="already paid"):
        database.call(mark_paid, invoice.id, "SEPA-again", START + 4 * HOUR)
    assert database.call(account_balance, "receivable:ola", "EUR") == 0
    assert database.call(account_balance, "cash", "EUR") == 30 and database.call(check_ledger).balanced


def test_a_card_is_charged_through_stripe_and_dunned_after_a_decline(database: Database) -> None:
    stand_in = StripeStandIn(declines=1)
    providers = {"stripe": StripeProvider("sk_test_standin", stand_in.url)}
    database.call(update_renter, "pia", START - HOUR, payment_method="stripe", payment_customer="cus_1",
                  payment_source="pm_card_1")  # fmt: skip
    invoice = invoice_for(database, "pia")
    issued = invoice.issued_at

    def collect(now: datetime) -> int:
        return asyncio.run(collect_due(database, providers, now)).produced

    assert collect(issued) == 1  # declined
    state = database.call(lambda db: db.get(Invoice, invoice.id))
    assert (state.paid_at, state.collection_attempts, state.next_collection_at) == (
        None,
        1,
        issued + DUNNING[1],
    )
    assert collect(issued + timedelta(hours=23)) == 0  # not yet due
    assert collect(issued + DUNNING[1]) == 1
    state = database.call(lambda db: db.get(Invoice, invoice.id))
    assert state.paid_at == issued + DUNNING[1] and collect(issued + DUNNING[3]) == 0
    (declined_key, form), (paid_key, _) = stand_in.requests
    assert (form["amount"], form["currency"], form["customer"], form["payment_method"]) == (
        "30",
        "eur",
        "cus_1",
        "pm_card_1",
    )
    assert declined_key != paid_key and form["metadata[invoice_id]"] == invoice.id
    payments = database.call(
        lambda db: [(p.succeeded, p.reference, p.error) for p in db.query(Payment).order_by(Payment.id)]
    )
    assert payments == [(False, "", "declined: Your card was declined."), (True, "pi_2", "")]
    assert (
        database.call(account_balance, "receivable:pia", "EUR") == 0 and database.call(check_ledger).balanced
    )


def test_a_prepaid_invoice_is_paid_from_the_wallet(database: Database) -> None:
    from collector.accounts.wallets import top_up

    database.call(top_up, "quin", billing.Money(500, "EUR"), "pay-1", START - HOUR)
    invoice = invoice_for(database, "quin")
    assert invoice.paid_at == invoice.issued_at
    with pytest.raises(FailedPrecondition, match="paid from the wallet"):
        database.call(mark_paid, invoice.id, "SEPA-1", START + 3 * HOUR)


def test_credit_notes_correct_an_invoice_without_changing_it(database: Database) -> None:
    from collector.accounts.wallets import top_up, wallet_state
    from collector.invoicing.credit_notes import credit_invoice

    database.call(top_up, "rex", billing.Money(500, "EUR"), "pay-1", START - HOUR)
    taxed = PLAIN + '[tax]\nname = "VAT"\npercent = "19"\n'
    invoice = invoice_for(database, "rex", document=taxed)  # 0.30 + VAT 0.057 -> 0.06 = 0.36
    assert invoice.total_minor == 36
    later = START + 3 * HOUR
    first = database.call(credit_invoice, invoice.id, billing.Money(18, "EUR"), "machine froze", later)
    assert (first.number, first.amount_minor, first.tax_minor) == ("CN-000001", 18, 3)  # half of the tax
    rest = database.call(credit_invoice, invoice.id, None, "goodwill", later)
    assert (rest.number, rest.amount_minor, rest.tax_minor) == ("CN-000002", 18, 3)
    assert database.call(account_balance, "tax:VAT", "EUR") == 0
    assert database.call(account_balance, "revenue", "EUR") == 0
    with pytest.raises(FailedPrecondition, match=r"0\.00 EUR left to credit"):
        database.call(credit_invoice, invoice.id, billing.Money(1, "EUR"), "again", later)
    with pytest.raises(InvalidArgument, match="reason is required"):
        database.call(credit_invoice, invoice.id, None, "", later)
    assert database.call(wallet_state, "rex", "EUR").balance_minor == 500  # charged 0.36, credited 0.36
    assert database.call(lambda db: db.get(Invoice, invoice.id).total_minor) == 36  # the invoice is unchanged
    assert database.call(check_ledger).balanced


def _stripe_signature(secret: str, payload: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def test_gateway_webhooks_are_verified_before_they_pay_an_invoice(database: Database) -> None:
    """The events as PaymentService.ApplyNotification hands them over (the portal's /webhooks/stripe; the
    route itself is tested in tests/collector/gateways/test_notifications.py)."""
    invoice = invoice_for(database, "sam")
    secret = "whsec_test_0123456789abcdef"
    event = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_9", "object": "payment_intent", "status": "succeeded",
                                 "metadata": {"invoice_id": invoice.id}}}}  # fmt: skip
    payload = json.dumps(event).encode()

    def post(body: bytes, signature: str) -> int:
        return handle_stripe_event(database, body, signature, secret, START + 3 * HOUR)

    now = int(time.time())
    assert post(payload, _stripe_signature("whsec_forged_000000000000", payload, now)) == 400
    assert post(payload.replace(b"pi_9", b"pi_X"), _stripe_signature(secret, payload, now)) == 400
    assert post(payload, _stripe_signature(secret, payload, now - 3600)) == 400  # replayed from long ago
    assert database.call(lambda db: db.get(Invoice, invoice.id).paid_at) is None
    assert post(payload, _stripe_signature(secret, payload, now)) == 200
    assert post(payload, _stripe_signature(secret, payload, now)) == 200  # delivered twice: paid once
    assert database.call(lambda db: db.get(Invoice, invoice.id).paid_at) == START + 3 * HOUR
    payments = database.call(lambda db: [(p.provider, p.reference) for p in db.query(Payment)])
    assert payments == [("stripe", "pi_9")] and database.call(check_ledger).balanced
