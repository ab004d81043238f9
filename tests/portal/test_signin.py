"""Signing in through the Login page with accounts made by AccountService, signing out (the token is
revoked), password resets, sign-up, and the renter stopping its own rental.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from zoneinfo import ZoneInfo

import grpc
import pytest

from agent.identity import Identity
from collector.server import Collector
from portal.server import RunningPortal
from portal.session_cookie import decode_session
from protos.rentmeter.v1 import accounts_pb2, accounts_pb2_grpc, sessions_pb2
from rentmeter.client import AdminClient
from tests.portal.conftest import (
    SignIn,
    client,
    csrf_of,
    open_rental,
    sign_in_through_page,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(admin: AdminClient) -> Iterator[accounts_pb2_grpc.AccountServiceStub]:
    """Accounts alice (renter), h1 (host) and boss (admin), all with PASSWORD."""
    stub = accounts_pb2_grpc.AccountServiceStub(admin.channel)
    for name, role in (("alice", "renter"), ("host-1", "host"), ("boss", "admin")):
        stub.CreateAccount(accounts_pb2.CreateAccountRequest(name=name, role=role, password=PASSWORD))
    yield stub


def token_in(portal: RunningPortal, browser: object) -> str:
    settings = portal.app.state.settings
    session = decode_session(settings.secret_key, browser.cookies["rentmeter"], 3600)  # type: ignore[attr-defined]
    return str(session["user"]["token"])


@pytest.mark.parametrize(
    ("name", "home"), [("alice", "/rental"), ("host-1", "/host/machines"), ("boss", "/admin/fleet")]
)
def test_sign_in_through_the_page_lands_on_the_roles_home(
    accounts: object, portal: RunningPortal, name: str, home: str
) -> None:
    browser = client(portal)
    before = browser.cookies["rentmeter"] if browser.get("/signin") else ""
    response = sign_in_through_page(browser, name, PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == home
    assert browser.cookies["rentmeter"] != before  # a new session at sign-in
    assert name in browser.get("/no-such-page").text


def test_sign_in_goes_back_where_it_was_asked_for(accounts: object, portal: RunningPortal) -> None:
    browser = client(portal)
    page = browser.get("/signin?next=/invoices/RM-000001/pdf")
    response = browser.post(
        "/signin",
        data={
            "name": "alice",
            "password": PASSWORD,
            "next": "/invoices/RM-000001/pdf",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.headers["location"] == "/invoices/RM-000001/pdf"


def test_a_wrong_password_is_refused_with_the_collectors_sentence(
    accounts: object, portal: RunningPortal
) -> None:
    browser = client(portal, language="zh-CN")
    response = sign_in_through_page(browser, "alice", "not the password")
    assert response.status_code == 401 and "无法登录：" in response.text  # noqa: RUF001
    assert 'class="said" lang="en"' in response.text and 'value="alice"' in response.text
    assert "not the password" not in response.text


def test_sign_out_revokes_the_token(accounts: object, collector: Collector, portal: RunningPortal) -> None:
    browser = client(portal)
    sign_in_through_page(browser, "alice", PASSWORD)
    token = token_in(portal, browser)
    own = accounts_pb2_grpc.AccountServiceStub(grpc.insecure_channel(f"127.0.0.1:{collector.port}"))
    metadata = (("authorization", f"Bearer {token}"),)
    assert own.WhoAmI(accounts_pb2.WhoAmIRequest(), metadata=metadata).name == "alice"
    response = browser.post("/signout", data={"csrf_token": csrf_of(browser.get("/rental"))})
    assert response.headers["location"] == "/signin"
    assert "You are signed out." in browser.get("/signin").text
    with pytest.raises(grpc.RpcError) as refused:
        own.WhoAmI(accounts_pb2.WhoAmIRequest(), metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert browser.get("/rental").status_code == 303


def test_password_reset_pages(accounts: object, portal: RunningPortal) -> None:
    browser = client(portal)
    page = browser.get("/reset/request")
    sent = browser.post("/reset/request", data={"name_or_email": "nobody", "csrf_token": csrf_of(page)})
    assert sent.status_code == 200 and "Check your e-mail" in sent.text  # the same for any name
    form = browser.get("/reset?token=rmr_not-a-real-token")
    assert 'name="token" value="rmr_not-a-real-token"' in form.text
    response = browser.post(
        "/reset",
        data={"token": "rmr_not-a-real-token", "password": PASSWORD + "!", "password_again": PASSWORD + "!",
              "csrf_token": csrf_of(form)},
    )  # fmt: skip
    assert response.status_code == 400 and "This reset link is not valid any more:" in response.text


def test_the_reset_form_checks_the_two_passwords(portal: RunningPortal) -> None:
    browser = client(portal)
    form = browser.get("/reset?token=t")
    response = browser.post(
        "/reset",
        data={"token": "t", "password": "a" * 12, "password_again": "b" * 12, "csrf_token": csrf_of(form)},
    )
    assert response.status_code == 400 and "The two passwords are not the same." in response.text


def test_sign_up_is_offered_only_when_the_collector_allows_it(
    accounts: object, portal: RunningPortal
) -> None:
    """The test collector leaves self sign-up off (FAILED_PRECONDITION): no link, no page."""
    browser = client(portal)
    assert 'href="/signup"' not in browser.get("/signin").text
    assert browser.get("/signup").status_code == 404
    assert browser.get("/reset/request").status_code == 200  # and the sign-in page did reach AccountService
    assert sign_in_through_page(browser, "alice", PASSWORD).status_code == 303


def test_the_renter_stops_its_own_rental(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    browser = sign_in("renter", "alice")
    page = browser.get("/rental")
    response = browser.post(f"/rental/{rental.session_id}/stop", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 303 and response.headers["location"] == "/rental"
    after = browser.get("/rental").text
    assert "Your rental is stopped." in after and "No rental is running" in after
    stopped = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    assert stopped.state == sessions_pb2.RentalSession.STOPPED
    again = browser.post(f"/rental/{rental.session_id}/stop", data={"csrf_token": csrf_of(page)})
    assert again.status_code == 409 and "The request was refused:" in again.text


def test_the_accounts_language_and_time_zone_are_used(
    admin: AdminClient, portal: RunningPortal, machine: Identity
) -> None:
    rental = open_rental(admin, machine.agent_id, "wang")
    request = accounts_pb2.CreateAccountRequest(
        name="wang", role="renter", password=PASSWORD, locale="zh-CN", time_zone="Asia/Shanghai"
    )
    accounts_pb2_grpc.AccountServiceStub(admin.channel).CreateAccount(request)
    browser = client(portal, language="en-US,en")  # an English browser, a Chinese account
    sign_in_through_page(browser, "wang", PASSWORD)
    page = browser.get("/rental").text
    started = rental.started_at.ToDatetime(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert "我的租用" in page and f"{started:%H:%M}" in page
    token = csrf_of(browser.get("/rental"))
    browser.post("/language", data={"csrf_token": token, "language": "en"})
    assert "My rental" in browser.get("/rental").text  # the switch wins over the account's language
