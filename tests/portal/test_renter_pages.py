"""The renter's pages against a real collector and real data: a rental opened, reported, stopped and
invoiced; the figures each page shows are the API's; another renter (or a host) gets 404 for every rental
and invoice address, guessed ones too; refusals are shown as the collector's sentences."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from google.protobuf.duration_pb2 import Duration

from agent.identity import Identity
from collector.config import CollectorSettings
from collector.server import Collector
from portal import i18n
from portal.server import RunningPortal
from protos.rentmeter.v1 import invoices_pb2, plans_pb2, renters_pb2, sessions_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request
from tests.collector.test_payments import StripeStandIn
from tests.portal.conftest import SignIn, csrf_of, open_rental, report_usage

GUESSES = ("s-0000000000000000", "RM-999999", "inv-0", "%00", "..%2Fadmin")


@pytest.fixture
def stripe() -> Iterator[StripeStandIn]:
    """A stand-in for Stripe's API that declines the first charge and accepts the others."""
    server = StripeStandIn(declines=1)
    yield server
    server.shutdown()


@pytest.fixture
def collector_settings(tmp_path: Path, stripe: StripeStandIn) -> CollectorSettings:
    """The collector of tests/conftest.py, charging cards through the stand-in (wallet top-ups)."""
    return CollectorSettings(
        listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'collector.db'}",
        rating_interval=timedelta(seconds=1), invoice_period=timedelta(days=1),
        invoice_grace=timedelta(seconds=2), stripe_api_key="sk_test_standin", stripe_api_base=stripe.url,
    )  # fmt: skip


def text_of(page: httpx.Response) -> str:
    """The page's text as a reader sees it (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def row_of(page: httpx.Response, attribute: str, key: str) -> str:
    """The table row marked `attribute="key"` (e.g. data-invoice="RM-000001"), as HTML."""
    return page.text.split(f'{attribute}="{key}"')[1].split("</tr>")[0]


def figure(page: httpx.Response, name: str) -> str:
    return figure_in(page.text, name)


def figure_in(markup: str, name: str) -> str:
    """The text of the element marked data-figure="name"."""
    found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', markup)
    assert found, f"no figure {name}"
    return html.unescape(found.group(1)).strip()


@pytest.fixture
def invoiced(
    admin: AdminClient, machine: Identity, channel: grpc.Channel
) -> tuple[sessions_pb2.RentalSession, invoices_pb2.Invoice]:
    """alice's rental: 1.5 s reported, stopped, and invoiced at once."""
    rental = open_rental(admin, machine.agent_id, "alice")
    report_usage(channel, machine, rental, seconds=1.5)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
    ).invoices
    assert invoice.total.minor_units > 0
    stopped = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    return stopped, invoice


def test_the_rentals_list_shows_the_apis_figures_newest_first(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity,
    invoiced: tuple[sessions_pb2.RentalSession, invoices_pb2.Invoice], sign_in: SignIn,
) -> None:  # fmt: skip
    stopped, _ = invoiced
    running = open_rental(admin, machine.agent_id, "alice")
    page = sign_in("renter", "alice").get("/rentals")
    assert page.status_code == 200 and "<caption>" in page.text
    order = re.findall(r'<tr data-session="([^"]+)"', page.text)
    assert order == [running.session_id, stopped.session_id]
    row = row_of(page, "data-session", stopped.session_id)
    assert f'href="/rentals/{stopped.session_id}"' in row
    assert f'data-figure="cost">{i18n.format_money(stopped.cost)}<' in row
    assert "Ended" in row and "hourly" in row and machine.agent_id in row
    running_row = row_of(page, "data-session", running.session_id)
    assert "Running" in running_row and 'href="/rental"' in running_row


def test_the_rental_page_explains_the_charge_line_by_line(
    collector: Collector, admin: AdminClient, portal: RunningPortal,
    invoiced: tuple[sessions_pb2.RentalSession, invoices_pb2.Invoice], sign_in: SignIn,
) -> None:  # fmt: skip
    stopped, invoice = invoiced
    explanation = admin.sessions.ExplainSession(sessions_pb2.GetSessionRequest(session_id=stopped.session_id))
    page = sign_in("renter", "alice").get(f"/rentals/{stopped.session_id}")
    assert page.status_code == 200
    assert figure(page, "total") == i18n.format_money(explanation.total) == i18n.format_money(invoice.total)
    assert figure(page, "charges-total") == i18n.format_money(explanation.total)
    for charge in explanation.charges:
        row = row_of(page, "data-meter", charge.meter)
        assert html.escape(charge.description) in row and charge.exact_amount in row
        assert f"{charge.quantity} {charge.unit}" in row and i18n.format_money(charge.amount) in row
    assert "€36.00/h" in page.text  # the time line's price
    assert 'class="chart-plot"' in page.text and "Utilisation" in page.text  # charts of GetUsageSeries
    text = text_of(page)
    assert f"Invoice {invoice.number} · {i18n.format_money(invoice.total)} · Unpaid" in text  # not prepaid
    assert f'href="/invoices/{invoice.number}"' in page.text
    for form in ("pdf", "html", "csv"):
        assert f'href="/invoices/{invoice.number}/{form}"' in page.text
    assert "This rental is running." not in text


def test_an_open_rental_links_to_the_live_view_and_is_not_invoiced_yet(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, sign_in: SignIn,
) -> None:  # fmt: skip
    rental = open_rental(admin, machine.agent_id, "alice")
    page = sign_in("renter", "alice").get(f"/rentals/{rental.session_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "This rental is running." in text and 'href="/rental"' in page.text
    assert "Not invoiced yet" in text and "Nothing charged yet" in text


def test_nobody_else_sees_a_rental(
    collector: Collector, portal: RunningPortal,
    invoiced: tuple[sessions_pb2.RentalSession, invoices_pb2.Invoice], sign_in: SignIn,
) -> None:  # fmt: skip
    stopped, _ = invoiced
    mallory, host = sign_in("renter", "mallory"), sign_in("host", "h1")
    assert stopped.session_id not in mallory.get("/rentals").text
    assert "No rentals yet" in mallory.get("/rentals").text
    for guess in (stopped.session_id, *GUESSES):
        for browser in (mallory, host):
            answer = browser.get(f"/rentals/{guess}")
            assert answer.status_code == 404, (guess, answer.text[:300])
            assert "This page is not here" in answer.text
    assert host.get("/rentals").status_code == 404


def test_the_invoices_list_and_an_invoice_with_its_payment_and_credit_note(
    collector: Collector, admin: AdminClient, portal: RunningPortal,
    invoiced: tuple[sessions_pb2.RentalSession, invoices_pb2.Invoice], sign_in: SignIn,
) -> None:  # fmt: skip
    stopped, invoice = invoiced
    alice = sign_in("renter", "alice")
    listed = alice.get("/invoices")
    assert listed.status_code == 200
    row = row_of(listed, "data-invoice", invoice.number)
    assert f'href="/invoices/{invoice.number}"' in row and "Unpaid" in row
    assert f'data-figure="total">{i18n.format_money(invoice.total)}<' in row
    assert f'href="/invoices/{invoice.number}/pdf"' in row

    page = alice.get(f"/invoices/{invoice.number}")
    assert page.status_code == 200
    assert figure(page, "total") == figure(page, "lines-total") == i18n.format_money(invoice.total)
    assert figure(page, "net") == i18n.format_money(invoice.net)
    assert figure(page, "tax") == i18n.format_money(invoice.tax) and figure(page, "paid") == "Not yet"
    for line in invoice.lines:
        row = row_of(page, "data-meter", line.meter)
        assert html.escape(line.description) in row and i18n.format_money(line.amount) in row
    assert f'href="/rentals/{stopped.session_id}"' in page.text
    assert "No payment recorded yet." in page.text and "Credit notes" not in page.text

    admin.invoices.PayInvoice(invoices_pb2.PayInvoiceRequest(invoice_id=invoice.number, reference="SEPA-42"))
    note = admin.invoices.CreditInvoice(
        invoices_pb2.CreditInvoiceRequest(invoice_id=invoice.number, amount="0.01", reason="goodwill")
    )
    paid = admin.invoices.GetInvoice(invoices_pb2.GetInvoiceRequest(invoice_id=invoice.number))
    page = alice.get(f"/invoices/{invoice.invoice_id}")  # by its id as well as its number
    assert figure(page, "paid") == i18n.format_datetime(paid.paid_at)
    text = text_of(page)
    assert "SEPA-42" in text and "manual" in text and "No payment recorded yet." not in text
    credit_row = row_of(page, "data-credit-note", note.number)
    assert "goodwill" in credit_row and i18n.format_money(note.amount) in credit_row
    assert "Paid" in row_of(alice.get("/invoices"), "data-invoice", invoice.number)
    assert alice.get(f"/invoices/{invoice.number}/csv").status_code == 200  # the documents' route still


def test_nobody_else_sees_an_invoice(
    collector: Collector, portal: RunningPortal,
    invoiced: tuple[sessions_pb2.RentalSession, invoices_pb2.Invoice], sign_in: SignIn,
) -> None:  # fmt: skip
    _, invoice = invoiced
    mallory, host = sign_in("renter", "mallory"), sign_in("host", "h1")
    listed = mallory.get("/invoices")
    assert invoice.number not in listed.text and "No invoices yet" in listed.text
    for guess in (invoice.number, invoice.invoice_id, "RM-000002", *GUESSES):
        for browser in (mallory, host):
            answer = browser.get(f"/invoices/{guess}")
            assert answer.status_code == 404, (guess, answer.text[:300])
    assert host.get("/invoices").status_code == 404


def test_the_wallet_is_topped_up_by_card_and_a_decline_is_the_collectors_sentence(
    collector: Collector, admin: AdminClient, portal: RunningPortal, stripe: StripeStandIn, sign_in: SignIn,
) -> None:  # fmt: skip
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="alice", amount="10.00", currency="EUR", idempotency_key="t1")
    )
    card = {"payment_method": "stripe", "payment_customer": "cus_1", "payment_source": "pm_1"}
    admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter="alice", **card))
    alice = sign_in("renter", "alice")
    page = alice.get("/wallet")
    assert page.status_code == 200 and figure(page, "balance-EUR") == "€10.00"
    assert 'action="/wallet/top-up"' in page.text and '<label for="amount">' in page.text

    def top_up(page: httpx.Response, amount: str) -> httpx.Response:
        key = re.search(r'name="key" value="([^"]+)"', page.text)
        assert key
        form = {"csrf_token": csrf_of(page), "amount": amount, "currency": "EUR", "key": key.group(1)}
        return alice.post("/wallet/top-up", data=form)

    declined = top_up(page, "20.00")
    assert declined.status_code == 409
    said = "the top-up of 20.00 EUR was not charged: declined: Your card was declined."
    assert said in text_of(declined) and 'role="alert"' in declined.text
    assert figure(declined, "balance-EUR") == "€10.00" and 'value="20.00"' in declined.text
    done = top_up(declined, "20.00")  # the form again has a new key: a new request
    assert done.status_code == 303 and done.headers["location"] == "/wallet"
    wallet = admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="alice"))
    assert wallet.balance.minor_units == 3000
    page = alice.get("/wallet")
    assert "topped up: €30.00" in page.text and figure(page, "balance-EUR") == i18n.format_money(
        wallet.balance
    )
    assert figure(page, "spendable-EUR") == i18n.format_money(wallet.spendable)
    rows = re.findall(r"<tr data-transaction=.*?</tr>", page.text, re.S)
    assert ["Top-up" in row for row in rows] == [True, True]
    assert "+€20.00" in rows[0] and "pi_2" in rows[0] and "+€10.00" in rows[1]
    assert len(stripe.requests) == 2  # declined once, charged once
    bad = top_up(page, "-5")
    assert bad.status_code == 409 and 'role="alert"' in bad.text and len(stripe.requests) == 2


def test_a_prepaid_rental_is_taken_from_the_wallet(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity,
    channel: grpc.Channel, sign_in: SignIn,
) -> None:  # fmt: skip
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="alice", amount="10.00", currency="EUR", idempotency_key="t1")
    )
    rental = open_rental(admin, machine.agent_id, "alice")
    report_usage(channel, machine, rental, seconds=1.5)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
    ).invoices
    alice = sign_in("renter", "alice")
    page = alice.get("/wallet")
    wallet = admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="alice"))
    assert figure(page, "balance-EUR") == i18n.format_money(wallet.balance)
    assert wallet.balance.minor_units == 1000 - invoice.total.minor_units
    charge = re.findall(r"<tr data-transaction=.*?</tr>", page.text, re.S)[0]
    assert "Invoice paid from the wallet" in charge and f"-{i18n.format_money(invoice.total)}" in charge
    assert f'href="/invoices/{invoice.invoice_id}"' in charge
    assert "You have no card on file" in page.text and 'action="/wallet/top-up"' not in page.text
    assert "Paid" in row_of(alice.get("/invoices"), "data-invoice", invoice.number)
    assert alice.get(f"/invoices/{invoice.invoice_id}").status_code == 200


def test_without_a_card_the_top_up_is_refused_with_the_collectors_sentence(
    collector: Collector, admin: AdminClient, portal: RunningPortal,
    invoiced: tuple[sessions_pb2.RentalSession, invoices_pb2.Invoice], sign_in: SignIn,
) -> None:  # fmt: skip
    alice, mallory, host = sign_in("renter", "alice"), sign_in("renter", "mallory"), sign_in("host", "h1")
    page = alice.get("/wallet")
    assert page.status_code == 200 and "You have no card on file" in page.text
    form = {"csrf_token": csrf_of(page), "amount": "5.00", "currency": "EUR", "key": "k1"}
    refused = alice.post("/wallet/top-up", data=form)
    assert refused.status_code == 409 and "alice has no payment method on file" in text_of(refused)
    empty = mallory.get("/wallet")
    assert empty.status_code == 200 and figure(empty, "balance-EUR") == "€0.00"
    assert "No money has moved through your wallet yet." in empty.text
    assert host.get("/wallet").status_code == 404


def test_the_prices_and_a_quote_are_the_apis(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    admin.plans.CreatePlan(plan_request("cafe", {"standard": "36.00", "gpu": "80"}, traffic_out="0.10"))
    alice = sign_in("renter", "alice")
    page = alice.get("/prices")
    assert page.status_code == 200 and 'data-plan="cafe"' in page.text
    assert figure_in(row_of(page, "data-price", "time:standard:"), "price") == "€36.00/h"
    assert figure_in(row_of(page, "data-price", "time:gpu:"), "price") == "€80.00/h"
    assert figure_in(row_of(page, "data-price", "traffic_out::"), "price") == "€0.10/GB"
    assert 'action="/prices#quote"' in page.text and 'method="get"' in page.text

    asked = {"plan": "cafe", "machine_class": "gpu", "hours": "2.5", "traffic_out": "3"}
    quoted = alice.get("/prices", params=asked)
    expected = admin.plans.Quote(
        plans_pb2.QuoteRequest(
            plan="cafe", machine_class="gpu", duration=Duration(seconds=9000), expected_tx_bytes=3 * 10**9
        )
    )
    assert quoted.status_code == 200 and expected.total.minor_units == 200_30
    assert figure(quoted, "quote-total") == i18n.format_money(expected.total) == "€200.30"
    for line in expected.lines:
        row = row_of(quoted, "data-meter", line.meter)
        assert html.escape(line.description) in row and i18n.format_money(line.amount) in row
    assert 'value="2.5"' in quoted.text and 'value="gpu"' in quoted.text  # the form keeps what was typed


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        ({"machine_class": "mainframe"}, "mainframe"),  # the collector's sentence: no price for the class
        ({"hours": "soon"}, "Hours: give a number, for example 2 or 1.5."),
        ({"hours": "9000"}, "Give between 0 and 8,784 hours (366 days)."),
        ({"gpu_model": "A100", "gpus": "1.5"}, "Give the number of GPUs as a whole number, 1 to 1,000."),
        ({"plan": "no-such-plan"}, "There is no price plan of that name."),
    ],
)
def test_a_quote_that_cannot_be_made_says_why(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn,
    asked: dict[str, str], said: str,
) -> None:  # fmt: skip
    admin.plans.CreatePlan(plan_request("cafe", {"standard": "36.00"}))
    answer = sign_in("renter", "alice").get(
        "/prices", params={"plan": "cafe", "machine_class": "standard", "hours": "1", **asked}
    )
    assert answer.status_code == 409 and 'role="alert"' in answer.text
    assert said in text_of(answer)
    assert 'data-figure="quote-total"' not in answer.text


def test_prices_in_chinese_with_yuan(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    admin.plans.CreatePlan(plan_request("cafe-cny", {"standard": "36.00"}, currency="CNY"))
    li = sign_in("renter", "li", language="zh-CN,zh;q=0.9")
    page = li.get("/prices")
    assert (
        "价格" in page.text
        and figure_in(row_of(page, "data-price", "time:standard:"), "price") == "¥36.00/小时"
    )
    quoted = li.get("/prices", params={"plan": "cafe-cny", "machine_class": "standard", "hours": "2"})
    assert figure(quoted, "quote-total") == "¥72.00"
    assert sign_in("host", "h1").get("/prices").status_code == 404
