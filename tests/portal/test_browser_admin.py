"""The provider's pages in a real browser (Debian's chromium via Playwright) against a real collector and a
real agent: the admin signs in, sees the fleet, starts and stops a session, tops up the renter, uploads a plan
with an error and then fixed, closes the invoices, issues a credit note, and finds all of it in the audit
log. Then every provider page at desktop and phone width, in English and Chinese (screenshots in
test-artifacts/screenshots/, no sideways scrolling, no Content-Security-Policy violation).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest

import billing
from agent.identity import Identity
from agent.runner import Agent
from collector.server import Collector
from protos.rentmeter.v1 import audit_pb2, invoices_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request
from tests.portal.browsing import DESKTOP, PHONE, Tab
from tests.portal.conftest import open_rental
from tests.portal.test_admin_pages import stopped_rental

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_admin_runs_the_business_in_the_browser(
    collector: Collector, admin: AdminClient, agent: Agent, tabs: Callable[..., Tab]
) -> None:
    admin.plans.CreatePlan(plan_request("fast", {"standard": "360.00"}))
    agent_id = agent.identity.agent_id
    tab = tabs("en")
    page = tab.page
    tab.sign_in(admin, "admin")
    assert page.locator("h1").inner_text() == "Fleet"
    assert page.locator(f'tr[data-machine="{agent_id}"]').count() == 1

    page.get_by_role("link", name="Sessions").click()
    page.locator("#agent_id").select_option(agent_id)
    page.locator("#start-renter").fill("ivy")
    page.locator("#plan").select_option("fast")
    page.get_by_role("button", name="Start the session").click()
    page.get_by_text("The session is started.").wait_for()
    time.sleep(1.5)  # some use to bill
    page.get_by_text("Stop the session").click()
    page.get_by_role("button", name="Yes, stop now").click()
    page.get_by_text("The session is stopped.").wait_for()

    page.locator(".figure a", has_text="ivy").click()
    page.locator("#top-up-amount").fill("20.00")
    page.get_by_role("button", name="Top up", exact=True).click()
    page.get_by_text("The wallet is topped up: the balance is €20.00.").wait_for()
    assert admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="ivy")).balance.minor_units == 2000

    page.get_by_role("link", name="Plans").click()
    good = billing.simple_document("gold", "EUR", {"standard": "1.20"})
    page.locator("#document").fill(good.replace('"1.20"', '"1,20"'))
    page.get_by_role("button", name="Create the plan").click()
    assert "is not a decimal number" in page.locator(".error .said").inner_text()
    assert page.locator("li.blamed").inner_text() == '"standard" = "1,20"'
    tab.shot("admin-plan-refused")
    page.locator("#document").fill(good)
    page.get_by_role("button", name="Create the plan").click()
    page.get_by_text("The plan gold is created.").wait_for()

    page.get_by_role("link", name="Invoices").click()
    page.locator("#close-renter").fill("ivy")
    page.get_by_role("button", name="Close invoices").click()
    page.get_by_text("1 invoice is made.").wait_for()
    (invoice,) = admin.invoices.ListInvoices(invoices_pb2.ListInvoicesRequest(renter="ivy")).invoices
    assert invoice.total.minor_units > 0
    page.get_by_role("link", name=invoice.number).first.click()
    page.locator("#credit-amount").fill("0.01")
    page.locator("#credit-reason").fill("goodwill")
    page.get_by_role("button", name="Issue the credit note").click()
    page.get_by_text("for €0.01 is issued.").wait_for()

    page.get_by_role("link", name="Audit").click()
    shown = set(page.locator("tr[data-action]").evaluate_all("rows => rows.map(r => r.dataset.action)"))
    done = {
        "SessionService/StartSession", "SessionService/StopSession", "WalletService/TopUp",
        "PlanService/CreatePlan", "InvoiceService/CloseInvoices", "InvoiceService/CreditInvoice",
    }  # fmt: skip
    assert done <= shown, done - shown
    logged = admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(limit=50)).entries
    assert done <= {entry.action for entry in logged}
    page.get_by_role("button", name="Verify the chain").click()
    page.get_by_text("The audit log is intact").wait_for()


ADMIN_PAGES = {
    "admin-fleet": "/admin/fleet",
    "admin-sessions": "/admin/sessions?state=all",
    "admin-renters": "/admin/renters",
    "admin-renter": "/admin/renters/kim",
    "admin-plans": "/admin/plans",
    "admin-plan": "/admin/plans/hourly?machine_class=standard&hours=3",
    "admin-invoices": "/admin/invoices",
    "admin-payments": "/admin/payments",
    "admin-alerts": "/admin/alerts",
    "admin-audit": "/admin/audit",
    "admin-accounts": "/admin/accounts",
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots_of_every_provider_page(
    collector: Collector, admin: AdminClient, machine: Identity, channel: grpc.Channel,
    tabs: Callable[..., Tab], language: str, size: dict[str, int],
) -> None:  # fmt: skip
    stopped_rental(admin, channel, machine, "kim")
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="kim", invoice_now=True)
    ).invoices
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="kim", amount="3", currency="EUR", idempotency_key="s1")
    )
    rental = open_rental(admin, machine.agent_id, "kim")
    tab = tabs(language, size)
    tab.sign_in(admin, "admin")
    pages = {
        **ADMIN_PAGES,
        "admin-session": f"/admin/sessions/{rental.session_id}",
        "admin-invoice": f"/admin/invoices/{invoice.number}",
        "admin-account": f"/admin/accounts/{tab.page.locator('.who').inner_text()}",
    }
    for name, path in pages.items():
        response = tab.page.goto(path)
        assert response is not None and response.status == 200, (name, response and response.status)
        tab.shot(name)
