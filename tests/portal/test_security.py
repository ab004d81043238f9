"""Security of every page: headers on every response, CSRF on every state-changing route (found by walking
the application's routes, so that new pages are covered without a new test), the session cookie's flags,
the sign-in limit, forged cookies and open redirects."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from starlette.routing import Route

from collector.server import Collector
from portal import notifications
from portal.security import CONTENT_SECURITY_POLICY, SignInLimiter
from portal.server import RunningPortal, running_portal
from portal.session_cookie import cookie_name, encode_session
from portal.settings import PortalSettings
from tests.portal.conftest import SignIn, api_token, client, csrf_of, session_for

EXPECTED_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def routes(portal: RunningPortal, method: str) -> list[str]:
    """Every path of the application that answers `method`, path parameters filled with a made-up id."""
    paths = []
    for route in portal.app.routes:
        if isinstance(route, Route) and route.methods and method in route.methods:
            paths.append(re.sub(r"\{[^}]+\}", "s-0123456789abcdef", route.path))
    assert paths, f"no {method} routes found"
    return sorted(set(paths))


def assert_secure_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_every_page_has_the_security_headers(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    renter = sign_in("renter", "alice")
    anonymous = client(portal)
    seen = []
    for browser in (anonymous, renter):
        for path in [
            *routes(portal, "GET"),
            "/no/such/page",
            "/static/portal.css",
            "/static/vendor/htmx.min.js",
        ]:
            response = browser.get(path)
            assert_secure_headers(response)
            seen.append(response.status_code)
            expected_cache = "public, max-age=3600" if path.startswith("/static/") else "no-store"
            assert response.headers["cache-control"] == expected_cache
        assert_secure_headers(browser.post("/signout"))  # a refused post too
    assert {200, 303, 404} <= set(seen)


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(
    collector: Collector,
    portal: RunningPortal,
    sign_in: SignIn,
) -> None:
    renter = sign_in("renter", "alice")
    right = csrf_of(renter.get("/rental"))
    for path in routes(portal, "POST"):
        if path in notifications.PATHS:
            continue  # the gateways' servers post there: signatures instead (test below)
        for data, headers in (
            ({}, {}),
            ({"csrf_token": "forged"}, {}),
            ({"csrf_token": right + "x"}, {}),
            ({}, {"x-csrf-token": "forged"}),
        ):
            response = renter.post(path, data=data, headers=headers)
            assert response.status_code == 403, path
            assert "This form has expired" in response.text
    # Without any session at all (a cross-site form post): refused as well.
    assert client(portal).post("/signin", data={"name": "a", "password": "b"}).status_code == 403
    # Multipart forms carry the token too.
    multipart = renter.post("/language", files={"csrf_token": (None, right), "language": (None, "zh_CN")})
    assert multipart.status_code == 303


def test_only_the_gateways_notifications_take_no_csrf_token(portal: RunningPortal) -> None:
    """They are verified by the collector with the gateways' signatures; a portal without a gateway token
    answers 503 (the gateway retries), and touches no session."""
    assert {"/notify/alipay", "/notify/wechatpay", "/webhooks/stripe"} == notifications.PATHS
    for path in sorted(notifications.PATHS):
        response = client(portal).post(path, content=b"a=1")
        assert response.status_code == 503 and "set-cookie" not in response.headers, path
        assert_secure_headers(response)


def test_the_right_token_passes_as_field_or_header(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    renter = sign_in("renter", "alice")
    token = csrf_of(renter.get("/rental"))
    assert renter.post("/language", data={"csrf_token": token, "language": "zh_CN"}).status_code == 303
    assert (
        renter.post("/language", data={"language": "en"}, headers={"x-csrf-token": token}).status_code == 303
    )


def test_a_form_over_a_megabyte_is_refused(collector: Collector, portal: RunningPortal) -> None:
    browser = client(portal)
    token = csrf_of(browser.get("/signin"))
    response = browser.post("/signin", data={"csrf_token": token, "name": "x" * (2 << 20)})
    assert response.status_code == 413 and "too large" in response.text


def test_session_cookie_flags_over_http(portal: RunningPortal) -> None:
    response = client(portal).get("/signin")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("rentmeter=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_and_host_only_behind_https(collector: Collector) -> None:
    settings = PortalSettings(
        collector=f"127.0.0.1:{collector.port}", secret_key=secrets.token_urlsafe(32), listen="127.0.0.1:0",
        public_url="https://portal.example.net",
    )  # fmt: skip
    with running_portal(settings) as portal:
        response = client(portal).get("/signin")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-rentmeter=") and "; Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert cookie_name(True) == "__Host-rentmeter"


def test_a_forged_or_foreign_cookie_signs_nobody_in(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    renter = sign_in("renter", "alice")
    value = renter.cookies["rentmeter"]
    forged = client(portal)
    forged.cookies.set("rentmeter", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert forged.get("/rental").headers["location"] == "/signin?next=/rental"
    foreign = client(portal)  # signed with another key: a forgery too
    session = session_for(api_token(collector, "renter", "alice"), "renter", "alice")
    foreign.cookies.set("rentmeter", encode_session(secrets.token_urlsafe(32), session))
    assert foreign.get("/rental").headers["location"] == "/signin?next=/rental"


def test_sign_in_is_limited_per_client_address(portal: RunningPortal) -> None:
    browser = client(portal)
    token = csrf_of(browser.get("/signin"))
    statuses = [
        browser.post("/signin", data={"csrf_token": token, "name": "alice", "password": "wrong"}).status_code
        for _ in range(11)
    ]
    assert 429 not in statuses[:10] and statuses[10] == 429
    last = browser.post("/signin", data={"csrf_token": token, "name": "alice", "password": "wrong"})
    assert "Too many attempts from this address. Try again in 5 minutes." in last.text


def test_the_limiter_forgets_attempts_after_its_window() -> None:
    now = [1000.0]
    limiter = SignInLimiter(attempts=2, window_s=60, clock=lambda: now[0])
    assert limiter.retry_after("1.2.3.4") == 0 and limiter.retry_after("1.2.3.4") == 0
    assert limiter.retry_after("1.2.3.4") == 60
    assert limiter.retry_after("5.6.7.8") == 0  # per address
    now[0] += 30
    assert limiter.retry_after("1.2.3.4") == 30
    now[0] += 31
    assert limiter.retry_after("1.2.3.4") == 0


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_no_redirect_leaves_the_site(portal: RunningPortal, next_path: str) -> None:
    browser = client(portal)
    token = csrf_of(browser.get("/signin"))
    response = browser.post("/language", data={"csrf_token": token, "language": "en", "next": next_path})
    assert response.headers["location"] == "/"


def test_a_bug_is_the_500_page_with_an_error_id_and_the_headers(
    portal: RunningPortal, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: object) -> None:
        raise ZeroDivisionError("a secret detail")

    portal.app.router.routes.append(Route("/test-broken", broken))
    response = client(portal, language="zh-CN").get("/test-broken")
    assert response.status_code == 500 and "我们这边出了问题" in response.text
    assert "a secret detail" not in response.text and "Traceback" not in response.text
    assert_secure_headers(response)
    error_id = re.search(r"错误编号告知服务商：(\w+)", response.text)  # noqa: RUF001
    assert error_id and any(error_id[1] in record.getMessage() for record in caplog.records)
