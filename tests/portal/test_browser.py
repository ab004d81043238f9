"""A real browser (Debian's chromium driven by Playwright) against a real collector, a real agent on this
machine and the portal: a renter watches the cost rise, the rental stops, the invoice PDF is downloaded and
its total is the API's; the pages in Chinese; every page at desktop and phone width, without horizontal
scrolling and without a Content-Security-Policy violation.

Screenshots of every page (desktop 1280x800 and phone 375x812, English and Chinese) are written to
test-artifacts/screenshots/ (git-ignored). One browser per test process.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from agent.config import AgentSettings
from agent.runner import Agent
from collector.server import Collector
from portal.server import RunningPortal, running_portal
from portal.session_cookie import cookie_name, encode_session
from portal.settings import PortalSettings
from protos.rentmeter.v1 import accounts_pb2, invoices_pb2, machines_pb2, sessions_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request
from tests.portal.conftest import PASSWORD, admin_accounts, api_token, session_for

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 375, "height": 812}
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        missing = "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """One page in its own browser context (cookies, language, time zone, size), recording every
    Content-Security-Policy violation the browser reports."""

    def __init__(self, browser: object, portal: RunningPortal, language: str, size: dict[str, int]) -> None:
        self.portal = portal
        self.language = language
        self.context = browser.new_context(  # type: ignore[attr-defined]
            base_url=portal.url, locale=LANGUAGES[language], timezone_id="Europe/Berlin", viewport=size,
            accept_downloads=True,
        )  # fmt: skip
        self.page = self.context.new_page()
        self.violations: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: object) -> None:
        text = message.text  # type: ignore[attr-defined]
        if "Content Security Policy" in text or "Refused to" in text:
            self.violations.append(text)

    def sign_in(self, admin: AdminClient, role: str, subject: str = "") -> None:
        """Make an account of `role` for `subject` and sign in with it on the Login page."""
        name = f"{role}-{subject or 'all'}-{secrets.token_hex(3)}"
        request = accounts_pb2.CreateAccountRequest(name=name, role=role, subject=subject, password=PASSWORD)
        admin_accounts(admin).CreateAccount(request)
        self.page.goto("/signin")
        self.page.locator("#name").fill(name)
        self.page.locator("#password").fill(PASSWORD)
        self.page.locator("button.primary").click()
        self.page.wait_for_url(re.compile(r"/(rental|host/.*|admin/.*)$"))

    def sign_in_with_token(self, token: str, role: str, subject: str) -> None:
        """The session that auth.sign_in makes, as the portal's cookie (for a portal without a collector)."""
        settings = self.portal.app.state.settings
        value = encode_session(settings.secret_key, session_for(token, role, subject))
        self.context.add_cookies([{"name": cookie_name(False), "value": value, "url": self.portal.url}])

    def shot(self, name: str) -> None:
        """Screenshot into test-artifacts/screenshots/NAME-LANGUAGE-WIDTH.png; the page must fit the width."""
        width = self.page.viewport_size["width"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.language}-{width}.png"), full_page=True)
        scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} scrolls sideways at {width} px ({scroll_width} px wide)"

    def close(self) -> None:
        self.context.close()
        assert self.violations == [], self.violations


@pytest.fixture
def tabs(browser: object, portal: RunningPortal) -> Iterator[Callable[[str, dict[str, int]], Tab]]:
    opened: list[Tab] = []

    def open_tab(language: str = "en", size: dict[str, int] = DESKTOP) -> Tab:
        opened.append(Tab(browser, portal, language, size))
        return opened[-1]

    yield open_tab
    for tab in opened:
        tab.close()


@pytest.fixture
def agent(collector: Collector, admin: AdminClient, tmp_path: Path) -> Iterator[Agent]:
    """This machine's agent, enrolled and reporting every 0.4 s."""
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(
        collector=f"127.0.0.1:{collector.port}", state_dir=tmp_path / "agent", interval=0.2, report_every=0.4,
        token=token,
    )  # fmt: skip
    with running_agent(settings) as running:
        wait_for(lambda: running.sender.acknowledged > 0)
        yield running


def wait_for(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def costs_seen(tab: Tab, count: int, timeout_s: float = 20.0) -> list[str]:
    """The cost as the page shows it, until it has shown `count` different values (htmx SSE swaps)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(seen) < count:
        assert time.monotonic() < deadline, f"the cost did not move: {seen}"
        shown = tab.page.locator('[data-figure="cost"]').first.inner_text()
        if not seen or shown != seen[-1]:
            seen.append(shown)
        time.sleep(0.2)
    return seen


def amount(text: str) -> int:
    """Minor units of a shown amount such as `€1,234.50`."""
    return int(re.sub(r"[^\d]", "", text))


def pdf_total(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    (line,) = [line for line in text.splitlines() if line.strip().startswith("total")]
    return line


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


def test_an_unreachable_collector_is_the_503_page(collector: Collector, browser: object) -> None:
    settings = PortalSettings(
        collector="127.0.0.1:9", secret_key=secrets.token_urlsafe(32), listen="127.0.0.1:0"
    )
    with running_portal(settings) as unreachable:
        for language in LANGUAGES:
            for size in (DESKTOP, PHONE):
                tab = Tab(browser, unreachable, language, size)
                tab.sign_in_with_token(api_token(collector, "renter", "alice"), "renter", "alice")
                response = tab.page.goto("/rental")
                assert response is not None and response.status == 503
                tab.shot("unavailable")
                tab.close()
