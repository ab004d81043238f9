"""A real browser (Debian's chromium driven by Playwright) against a real collector, a real agent on this
machine and the portal: a renter watches the cost rise, the rental stops, the invoice PDF is downloaded and
its total is the API's; the pages in Chinese; every page at desktop and phone width, without horizontal
scrolling and without a Content-Security-Policy violation.

Screenshots of every page (desktop 1280x800 and phone 375x812, English and Chinese) are written to
test-artifacts/screenshots/ (git-ignored). One browser per test process.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.runner import Agent
from collector.server import Collector
from portal.server import running_portal
from portal.settings import PortalSettings
from protos.rentmeter.v1 import invoices_pb2, machines_pb2, sessions_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request
from tests.portal.browsing import DESKTOP, LANGUAGES, PHONE, Tab, amount, costs_seen, pdf_total, wait_for
from tests.portal.conftest import api_token

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_a_renter_watches_the_cost_rise_stops_and_downloads_the_invoice(
    collector: Collector, admin: AdminClient, agent: Agent, tabs: Callable[..., Tab], tmp_path: Path
) -> None:
    admin.plans.CreatePlan(plan_request("fast", {"standard": "360.00"}))  # 10 cents a second
    rental = admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="alice", plan="fast")
    )
    tab = tabs("en")
    tab.sign_in(admin, "renter", "alice")
    assert tab.page.locator("h1").inner_text() == "My rental"
    costs = costs_seen(tab, 3)
    assert [amount(c) for c in costs] == sorted(amount(c) for c in costs) and costs[0].startswith("€")
    assert tab.page.locator('[data-figure="rate"]').first.inner_text() == "€360.00/h"
    assert {"name": "tz", "value": "Europe/Berlin"}.items() <= next(
        c for c in tab.context.cookies() if c["name"] == "tz"
    ).items()  # portal.js told the portal the browser's zone
    tab.page.reload()
    shown = tab.page.locator(".updated").first.inner_text()  # "Updated 22:04:05"
    berlin = datetime.now(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    at = datetime.combine(berlin.date(), datetime.strptime(shown.split()[-1], "%H:%M:%S").time())
    assert abs(at - berlin) < timedelta(minutes=2), (shown, berlin)
    tab.shot("my-rental-live")
    watcher = tab.context.new_page()  # a second window on the same rental, left open
    watcher.goto("/rental")
    tab.page.get_by_text("Stop the rental").click()  # opens the confirmation
    tab.shot("my-rental-stop")
    tab.page.get_by_role("button", name="Yes, stop now").click()
    tab.page.get_by_text("Your rental is stopped.").wait_for()
    watcher.get_by_text("This rental has ended.").wait_for(timeout=15_000)  # its last SSE update
    final_shown = watcher.locator('[data-figure="cost"]').first.inner_text()
    end_us = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id)).ended_at
    machine = machines_pb2.GetMachineRequest(agent_id=agent.identity.agent_id)
    wait_for(
        lambda: admin.machines.GetMachine(machine).last_report_end.ToNanoseconds() >= end_us.ToNanoseconds()
    )
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
    ).invoices
    tab.page.goto("/rental")
    assert "No rental is running" in tab.page.content()
    tab.shot("my-rental-invoiced")
    with tab.page.expect_download() as download_info:
        tab.page.get_by_role("link", name="download the PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert invoice.total.display in pdf_total(saved.read_bytes())
    assert amount(final_shown) <= invoice.total.minor_units + 1  # the live figure is an estimate
    assert (
        invoice.total.minor_units
        == admin.sessions.GetSession(
            sessions_pb2.GetSessionRequest(session_id=rental.session_id)
        ).cost.minor_units
    )


def test_the_rental_in_chinese_with_yuan(
    collector: Collector, admin: AdminClient, agent: Agent, tabs: Callable[..., Tab]
) -> None:
    admin.plans.CreatePlan(plan_request("cafe", {"standard": "36.00"}, currency="CNY"))
    admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="li", plan="cafe")
    )
    for size in (DESKTOP, PHONE):
        tab = tabs("zh", size)
        tab.sign_in(admin, "renter", "li")
        assert tab.page.locator("h1").inner_text() == "我的租用"
        assert tab.page.locator("html").get_attribute("lang") == "zh-CN"
        costs = costs_seen(tab, 2)
        assert all(c.startswith("¥") for c in costs)
        assert tab.page.locator('[data-figure="rate"]').first.inner_text() == "¥36.00/小时"
        assert "目前费用" in tab.page.content() and "结束租用" in tab.page.content()
        tab.shot("my-rental-live")
        tab.page.get_by_text("结束租用").click()
        tab.shot("my-rental-stop")


def test_the_language_switch_in_the_browser(collector: Collector, tabs: Callable[..., Tab]) -> None:
    tab = tabs("en")
    tab.page.goto("/signin")
    assert tab.page.locator("h1").inner_text() == "Sign in"
    tab.page.get_by_role("button", name="简体中文").click()
    assert tab.page.locator("h1").inner_text() == "登录"
    tab.page.goto("/reset/request")
    assert tab.page.locator("h1").inner_text() == "重置密码"  # remembered
    tab.page.get_by_role("button", name="English").click()
    assert tab.page.locator("h1").inner_text() == "Reset your password"


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots_of_every_page(
    admin: AdminClient, tabs: Callable[..., Tab], language: str, size: dict[str, int]
) -> None:
    tab = tabs(language, size)
    anonymous = {
        "signin": "/signin",
        "reset-request": "/reset/request",
        "reset": "/reset?token=rmr_example",
        "not-found": "/no/such/page",
    }
    for name, path in anonymous.items():
        tab.page.goto(path)
        tab.shot(name)
    tab.page.goto("/signin")
    tab.page.locator("#name").fill("alice")
    tab.page.locator("#password").fill("wrong password")
    tab.page.locator("button.primary").click()
    assert tab.page.locator(".error").count() == 1  # the collector's sentence, in the viewer's frame
    tab.shot("signin-refused")
    renter = tabs(language, size)
    renter.sign_in(admin, "renter", "nobody")
    renter.shot("my-rental-none")
    renter.page.goto("/no/such/page")
    renter.shot("not-found-signed-in")
    renter.page.keyboard.press("Tab")  # the skip link is the first stop, and it shows
    assert renter.page.evaluate("document.activeElement.className") == "skip"


def test_forms_without_the_csrf_token_are_refused_in_the_browser(tabs: Callable[..., Tab]) -> None:
    tab = tabs("en")
    tab.page.goto("/signin")
    tab.page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    tab.page.locator("#name").fill("alice")
    tab.page.locator("#password").fill("whatever it is")
    tab.page.locator("button.primary").click()
    assert tab.page.locator("h1").inner_text() == "This form has expired"
    tab.shot("csrf-refused")


def test_an_unreachable_collector_is_the_503_page(collector: Collector, chromium: object) -> None:
    settings = PortalSettings(
        collector="127.0.0.1:9", secret_key=secrets.token_urlsafe(32), listen="127.0.0.1:0"
    )
    with running_portal(settings) as unreachable:
        for language in LANGUAGES:
            for size in (DESKTOP, PHONE):
                tab = Tab(chromium, unreachable, language, size)
                tab.sign_in_with_token(api_token(collector, "renter", "alice"), "renter", "alice")
                response = tab.page.goto("/rental")
                assert response is not None and response.status == 503
                tab.shot("unavailable")
                tab.close()
