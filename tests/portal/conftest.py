"""Portal fixtures: a real collector on loopback (tests/conftest.py), the portal served by uvicorn on a
thread, HTTP clients signed in as a renter, a host or the admin.

Signing in: the `sign_in` fixture makes an account (AccountService.CreateAccount) and signs in through the
Login page: `browser = sign_in("renter", "alice")`. `with_session(portal, token, role, subject)` puts a
token into the session cookie directly (auth.sign_in's code path), for a portal whose collector is away.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest

from agent.identity import Identity
from collector.accounts.tokens import create_api_token
from collector.server import Collector
from portal import auth
from portal.server import RunningPortal, running_portal
from portal.session_cookie import cookie_name, encode_session
from portal.settings import PortalSettings
from protos.rentmeter.v1 import accounts_pb2, accounts_pb2_grpc, agent_pb2_grpc, sessions_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import enrolled_machine, plan_request, sample, signed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def portal_settings(collector: Collector) -> PortalSettings:
    return PortalSettings(
        collector=f"127.0.0.1:{collector.port}", secret_key=secrets.token_urlsafe(32), listen="127.0.0.1:0"
    )


@pytest.fixture
def portal(portal_settings: PortalSettings) -> Iterator[RunningPortal]:
    with running_portal(portal_settings) as running:
        yield running


def client(portal: RunningPortal, language: str = "en") -> httpx.Client:
    """A browser-like client: keeps cookies, does not follow redirects (tests look at them)."""
    return httpx.Client(base_url=portal.url, headers={"accept-language": language}, timeout=20)


def api_token(collector: Collector, role: str, subject: str) -> str:
    return str(collector.database.call(create_api_token, role, subject, "portal test", datetime.now(UTC)))


def session_for(token: str, role: str, subject: str) -> dict[str, object]:
    """The session auth.sign_in makes for an account of `role` acting for `subject`, holding `token`."""
    session: dict[str, object] = {}
    account = accounts_pb2.Account(name=subject or role, role=role, subject=subject)
    auth.sign_in(session, token, account, datetime.now(UTC) + timedelta(hours=1))
    return session


def with_session(
    portal: RunningPortal, token: str, role: str, subject: str, language: str = "en"
) -> httpx.Client:
    """A client whose session holds `token` as sign-in would put it there."""
    session = session_for(token, role, subject)
    settings: PortalSettings = portal.app.state.settings
    browser = client(portal, language)
    browser.cookies.set(cookie_name(settings.secure_cookies), encode_session(settings.secret_key, session))
    return browser


PASSWORD = "correct horse battery"
SignIn = Callable[..., httpx.Client]


def admin_accounts(admin: AdminClient) -> accounts_pb2_grpc.AccountServiceStub:
    return accounts_pb2_grpc.AccountServiceStub(admin.channel)


@pytest.fixture
def sign_in(admin: AdminClient, portal: RunningPortal) -> SignIn:
    """`sign_in(role, subject="", language="en")`: a client signed in through the Login page as a new
    account of `role` acting for `subject` (renters: the renter id; hosts: the host id)."""
    numbers = itertools.count(1)

    def signed_in(role: str, subject: str = "", language: str = "en") -> httpx.Client:
        name = f"{role}-{subject or 'all'}-{next(numbers)}"
        request = accounts_pb2.CreateAccountRequest(name=name, role=role, subject=subject, password=PASSWORD)
        admin_accounts(admin).CreateAccount(request)
        browser = client(portal, language)
        answer = sign_in_through_page(browser, name, PASSWORD)
        assert answer.status_code == 303, answer.text
        return browser

    return signed_in


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in_through_page(browser: httpx.Client, name: str, password: str) -> httpx.Response:
    token = csrf_of(browser.get("/signin"))
    return browser.post("/signin", data={"name": name, "password": password, "csrf_token": token})


@pytest.fixture
def machine(collector: Collector) -> Identity:
    """An enrolled machine of class standard (no agent runs on it: sessions on it cost time only)."""
    return enrolled_machine(collector.database, datetime.now(UTC))


def report_usage(
    channel: grpc.Channel, machine: Identity, rental: sessions_pb2.RentalSession, seconds: float
) -> None:
    """The machine reports `seconds` of use from the rental's start (one signed report, sequence 1); waits
    until that time has passed, so that the rental covers it when stopped now."""
    begun = rental.started_at.ToMicroseconds() / 1e6
    time.sleep(max(0.0, begun + seconds - time.time() + 0.05))
    report = signed(machine, 1, [sample(begun, begun + seconds, rx=10**6, tx=2 * 10**6)])
    list(agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter([report]), timeout=10))


def open_rental(
    admin: AdminClient, agent_id: str, renter: str, plan: str = "hourly"
) -> sessions_pb2.RentalSession:
    """A rental of `agent_id` for `renter` under `plan` (created at 36.00 EUR per hour when missing)."""
    from protos.rentmeter.v1 import plans_pb2

    if plan not in {p.name for p in admin.plans.ListPlans(plans_pb2.ListPlansRequest()).plans}:
        admin.plans.CreatePlan(plan_request(plan, {"standard": "36.00"}))
    return admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=agent_id, renter=renter, plan=plan)
    )


# The browser tests' fixtures, for every module here (tests/portal/browsing.py uses the helpers above).
from tests.portal.browsing import agent, chromium, tabs  # noqa: E402, F401
