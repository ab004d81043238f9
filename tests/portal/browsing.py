"""Browser tests' tools: Debian's chromium driven by Playwright (`chromium`, one per test process), a `Tab`
per browser context (language, size, time zone; records Content-Security-Policy violations; `shot()` saves a
screenshot and checks the page fits its width), this machine's `agent`, and small helpers.

The fixtures reach every module of tests/portal/ through conftest.py. Screenshots (desktop 1280x800 and
phone 375x812, English and Chinese) go to test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright import sync_api as playwright_api
from pypdf import PdfReader

from agent.config import AgentSettings
from agent.runner import Agent
from collector.server import Collector
from portal.server import RunningPortal
from portal.session_cookie import cookie_name, encode_session
from protos.rentmeter.v1 import accounts_pb2, machines_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.portal.conftest import PASSWORD, admin_accounts, session_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 375, "height": 812}
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        missing = "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


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
def tabs(chromium: object, portal: RunningPortal) -> Iterator[Callable[[str, dict[str, int]], Tab]]:
    opened: list[Tab] = []

    def open_tab(language: str = "en", size: dict[str, int] = DESKTOP) -> Tab:
        opened.append(Tab(chromium, portal, language, size))
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
