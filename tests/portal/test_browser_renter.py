"""The renter's pages in a real browser (Debian's chromium through Playwright) against a real collector
and a real agent: prices and a quote, the rental's charge with its usage chart drawn, its invoice, the
wallet; and every renter page at desktop and phone width in English and Chinese (a CNY plan: ¥ amounts),
without sideways scrolling or a Content-Security-Policy violation. Screenshots go to
test-artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from agent.identity import Identity
from agent.runner import Agent
from collector.server import Collector
from portal import i18n
from protos.rentmeter.v1 import invoices_pb2, machines_pb2, sessions_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request
from tests.portal.browsing import DESKTOP, PHONE, Tab, wait_for
from tests.portal.conftest import open_rental, report_usage

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def top_up(admin: AdminClient, renter: str, amount: str, currency: str) -> None:
    request = wallets_pb2.TopUpRequest(renter=renter, amount=amount, currency=currency, idempotency_key="t1")
    admin.wallets.TopUp(request)


def test_a_renter_prices_a_rental_then_reads_its_charge_invoice_and_wallet(
    collector: Collector, admin: AdminClient, agent: Agent, tabs: Callable[..., Tab]
) -> None:
    admin.plans.CreatePlan(plan_request("fast", {"standard": "360.00"}))  # 10 cents a second
    top_up(admin, "alice", "50.00", "EUR")
    rental = admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="alice", plan="fast")
    )
    ask = sessions_pb2.GetSessionRequest(session_id=rental.session_id)
    wait_for(lambda: admin.sessions.GetSession(ask).covered_us > 2_000_000)
    ended = admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id)).ended_at
    machine = machines_pb2.GetMachineRequest(agent_id=agent.identity.agent_id)
    wait_for(
        lambda: admin.machines.GetMachine(machine).last_report_end.ToNanoseconds() >= ended.ToNanoseconds()
    )
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
    ).invoices

    tab = tabs("en")
    tab.sign_in(admin, "renter", "alice")
    page = tab.page
    page.get_by_role("navigation").get_by_role("link", name="Prices").click()
    page.get_by_label("Price plan", exact=True).select_option("fast")
    page.get_by_label("Machine class", exact=True).fill("standard")
    page.get_by_label("Hours", exact=True).fill("2")
    page.get_by_role("button", name="Calculate").click()
    assert page.locator('[data-figure="quote-total"]').inner_text() == "€720.00"

    page.get_by_role("navigation").get_by_role("link", name="Rentals").click()
    page.locator(f'tr[data-session="{rental.session_id}"] a').first.click()
    page.wait_for_url(f"**/rentals/{rental.session_id}")
    page.locator(".chart-plot[data-drawn] canvas").first.wait_for()  # uPlot drew the usage
    total = i18n.format_money(invoice.total)  # as the default viewer (English, UTC) writes it
    assert page.locator('[data-figure="total"]').inner_text() == total

    page.get_by_role("link", name=f"Invoice {invoice.number}").click()
    page.wait_for_url(f"**/invoices/{invoice.number}")
    assert page.locator('[data-figure="total"]').inner_text() == total
    assert page.locator("h1 .badge").inner_text() == "Paid"  # taken from the wallet

    page.get_by_role("navigation").get_by_role("link", name="Wallet").click()
    wallet = admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="alice"))
    assert wallet.balance.minor_units == 5000 - invoice.total.minor_units
    assert page.locator('[data-figure="balance-EUR"]').inner_text() == i18n.format_money(wallet.balance)


PAGES = ("rentals", "rental", "invoices", "invoice", "wallet", "prices", "settings")
HEADINGS = {"en": "Rentals", "zh": "租用记录"}


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_renter_page_at_both_widths_in_both_languages(
    collector: Collector, admin: AdminClient, machine: Identity, channel: grpc.Channel,
    tabs: Callable[..., Tab], language: str, size: dict[str, int],
) -> None:  # fmt: skip
    admin.plans.CreatePlan(plan_request("cafe", {"standard": "36.00"}, traffic_out="0.50", currency="CNY"))
    top_up(admin, "li", "100.00", "CNY")
    rental = open_rental(admin, machine.agent_id, "li", plan="cafe")
    report_usage(channel, machine, rental, seconds=1.5)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="li", invoice_now=True)
    ).invoices
    addresses = {
        "rentals": "/rentals", "rental": f"/rentals/{rental.session_id}", "invoices": "/invoices",
        "invoice": f"/invoices/{invoice.number}", "wallet": "/wallet", "settings": "/settings",
        "prices": "/prices?plan=cafe&machine_class=standard&hours=3&traffic_out=2#quote",
    }  # fmt: skip
    tab = tabs(language, size)
    tab.sign_in(admin, "renter", "li")
    for name in PAGES:
        tab.page.goto(addresses[name])
        assert tab.page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh" else "en")
        if name != "settings":
            assert "¥" in tab.page.locator("main").inner_text(), name  # yuan, in both languages
        tab.shot(f"renter-{name}")
    tab.page.goto("/rentals")
    assert tab.page.locator("h1").inner_text() == HEADINGS[language]
