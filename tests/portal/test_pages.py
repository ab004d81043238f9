"""The pages against a real collector: who sees what (404 as if absent), menus per role, languages and
money, the collector's errors as pages (sign-in, 404, 503)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC

from agent.identity import Identity
from collector.server import Collector
from portal import i18n
from portal.server import RunningPortal, running_portal
from portal.settings import PortalSettings
from protos.rentmeter.v1 import accounts_pb2, sessions_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request
from tests.portal.conftest import (
    PASSWORD,
    SignIn,
    admin_accounts,
    api_token,
    client,
    csrf_of,
    open_rental,
    with_session,
)


def menu_of(html: str) -> list[str]:
    nav = html.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    return re.findall(r'<a href="([^"]+)"', nav)


def test_anonymous_visitors_are_sent_to_sign_in_and_back(portal: RunningPortal) -> None:
    browser = client(portal)
    assert browser.get("/").headers["location"] == "/signin"
    assert browser.get("/rental").headers["location"] == "/signin?next=/rental"
    page = browser.get("/signin?next=/rental")
    assert page.status_code == 200 and 'name="next" value="/rental"' in page.text
    assert 'autocomplete="current-password"' in page.text and '<label for="password">' in page.text


def test_each_role_has_its_menu_and_home(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    expected = {
        ("renter", "alice"): [
            "/rental", "/rentals", "/invoices", "/disputes", "/wallet", "/prices", "/insights",
        ],
        ("host", "h1"): ["/host/machines", "/host/earnings", "/host/enrollment"],
        ("admin", ""): [
            "/admin/fleet", "/admin/sessions", "/admin/renters", "/admin/plans", "/admin/invoices",
            "/admin/disputes", "/admin/payments", "/admin/reconciliation", "/admin/alerts", "/admin/audit",
            "/admin/accounts", "/admin/insights",
        ],
    }  # fmt: skip
    for (role, subject), paths in expected.items():
        browser = sign_in(role, subject)
        home = browser.get("/")
        assert home.headers["location"] == paths[0]
        page = browser.get("/signin")  # any page shows the menu; a signed-in user is sent home from here
        assert page.headers["location"] == "/"
        assert menu_of(browser.get("/no-such-page").text) == paths


def test_my_rental_shows_the_live_figures(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    page = sign_in("renter", "alice").get("/rental")
    assert page.status_code == 200
    assert f'sse-connect="/rental/{rental.session_id}/live"' in page.text
    assert '<dd data-figure="rate">€36.00/h</dd>' in page.text
    assert re.search(r'<dd data-figure="cost">€\d+\.\d\d</dd>', page.text)
    assert f'action="/rental/{rental.session_id}/stop"' in page.text and 'aria-current="page"' in page.text


def test_no_rental_is_a_friendly_page_with_the_last_one_and_the_prices(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    browser = sign_in("renter", "bob")
    empty = browser.get("/rental").text
    assert "No rental is running" in empty and 'href="/prices"' in empty and "Your last rental" not in empty
    rental = open_rental(admin, machine.agent_id, "bob")
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    page = browser.get("/rental").text
    assert "No rental is running" in page and "Your last rental ended" in page


def test_another_renters_rental_is_not_found_even_by_guessing(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    mallory = sign_in("renter", "mallory")
    assert rental.session_id not in mallory.get("/rental").text
    token = csrf_of(mallory.get("/rental"))
    for guess in (rental.session_id, "s-0000000000000000", "../admin", "%00"):
        live = mallory.get(f"/rental/{guess}/live")
        assert live.status_code == 404 and "This page is not here" in live.text
        stop = mallory.post(f"/rental/{guess}/stop", data={"csrf_token": token})
        assert stop.status_code == 404
    still = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    assert still.state == sessions_pb2.RentalSession.OPEN


def test_other_roles_do_not_get_renter_pages(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    host = sign_in("host", "h1")
    assert host.get("/rental").status_code == 404


def test_an_ended_sign_in_sends_the_user_to_sign_in_again(
    admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    browser = sign_in("renter", "alice")
    assert browser.get("/rental").status_code == 200
    (account,) = admin_accounts(admin).ListAccounts(accounts_pb2.ListAccountsRequest(role="renter")).accounts
    admin_accounts(admin).SetPassword(
        accounts_pb2.SetPasswordRequest(name=account.name, password=PASSWORD + "2")
    )
    page = browser.get("/rental")  # a new password ends the account's sign-ins
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=/rental"
    signin = browser.get("/signin")
    assert "Your session has ended. Please sign in again." in signin.text
    assert "/signout" not in signin.text  # the stale user is forgotten


def test_htmx_requests_are_redirected_whole(portal: RunningPortal) -> None:
    response = client(portal).get("/rental", headers={"hx-request": "true"})
    assert response.status_code == 204 and response.headers["hx-redirect"] == "/signin?next=/rental"


def test_chinese_pages_and_yuan(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    admin.plans.CreatePlan(plan_request("cafe-cny", {"standard": "36.00"}, currency="CNY"))
    open_rental(admin, machine.agent_id, "li", plan="cafe-cny")
    browser = sign_in("renter", "li", language="zh-CN,zh;q=0.9")
    page = browser.get("/rental").text
    assert '<html lang="zh-CN">' in page and "我的租用" in page and "目前费用" in page
    assert '<dd data-figure="rate">¥36.00/小时</dd>' in page


def test_the_language_switch_is_remembered(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    browser = sign_in("renter", "alice")
    assert "My rental" in browser.get("/rental").text
    token = csrf_of(browser.get("/rental"))
    switched = browser.post("/language", data={"csrf_token": token, "language": "zh_CN", "next": "/rental"})
    assert switched.headers["location"] == "/rental"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith("lang=zh_CN") and "Max-Age=31536000" in cookie
    assert "我的租用" in browser.get("/rental").text
    browser.post("/language", data={"csrf_token": token, "language": "en", "next": "/rental"})
    assert "My rental" in browser.get("/rental").text
    browser.post("/language", data={"csrf_token": token, "language": "tlh", "next": "/rental"})
    assert "My rental" in browser.get("/rental").text  # an unknown language changes nothing


def test_the_viewers_time_zone_cookie(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    browser = sign_in("renter", "alice")
    started = rental.started_at.ToDatetime(tzinfo=UTC)

    def shown(zone: str) -> str:
        token = i18n.use(i18n.viewer_for(time_zones=(zone,)))
        try:
            return f"Renting since {i18n.format_datetime(started)}"
        finally:
            i18n.reset(token)

    assert shown("UTC") in browser.get("/rental").text
    browser.cookies.set("tz", "Asia/Kolkata")  # UTC+05:30
    assert shown("Asia/Kolkata") in browser.get("/rental").text
    browser.cookies.set("tz", "Not/AZone")
    assert shown("UTC") in browser.get("/rental").text


def test_an_unreachable_collector_is_a_503_page(collector: Collector) -> None:
    settings = PortalSettings(
        collector="127.0.0.1:9", secret_key=secrets.token_urlsafe(32), listen="127.0.0.1:0"
    )
    settings = PortalSettings(**{**settings.__dict__, "call_timeout_s": 2.0})
    token = api_token(collector, "renter", "alice")  # no sign-in page works without the collector
    with running_portal(settings) as portal:
        page = with_session(portal, token, "renter", "alice").get("/rental")
        chinese = with_session(portal, token, "renter", "alice", language="zh-CN").get("/rental")
    assert page.status_code == 503 and page.headers["retry-after"] == "10"
    assert "We cannot reach the billing service right now" in page.text
    assert chinese.status_code == 503 and "暂时无法连接计费服务" in chinese.text
