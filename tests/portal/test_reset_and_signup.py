"""A password reset from the request page through the e-mailed link to signing in with the new password,
and self sign-up where the collector allows it — the portal's pages against the collector's AccountService
and its outbox (a real SMTP server on loopback)."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.config import CollectorSettings
from collector.delivery.outbox import Channels, deliver_due
from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import accounts_pb2, accounts_pb2_grpc
from rentmeter.client import AdminClient
from tests.collector.test_notifications import Mailbox, smtp  # noqa: F401  (the SMTP server fixture)
from tests.portal.conftest import client, csrf_of, sign_in_through_page

PASSWORD, NEW_PASSWORD = "correct horse battery", "staple in the drawer 42"


@pytest.fixture
def collector_settings(tmp_path: Path) -> CollectorSettings:
    """A collector that links reset e-mails to the portal and takes self sign-ups."""
    return CollectorSettings(
        listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'collector.db'}",
        invoice_period=timedelta(days=1), metrics_listen="127.0.0.1:0",
        portal_url="https://portal.example.net", self_signup=True,
    )  # fmt: skip


def test_a_forgotten_password_is_reset_through_the_emailed_link(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    smtp: tuple[Mailbox, int],  # noqa: F811
) -> None:
    mailbox, port = smtp
    accounts = accounts_pb2_grpc.AccountServiceStub(admin.channel)
    accounts.CreateAccount(
        accounts_pb2.CreateAccountRequest(
            name="alice", role="renter", password=PASSWORD, email="alice@example.org"
        )
    )
    browser = client(portal)
    asked = browser.post(
        "/reset/request",
        data={"name_or_email": "alice@example.org", "csrf_token": csrf_of(browser.get("/reset/request"))},
    )
    assert asked.status_code == 200 and "Check your e-mail" in asked.text
    channels = Channels(smtp_host="127.0.0.1", smtp_port=port, smtp_from="portal@cafe.example")
    # On a thread of its own: Playwright's sync API may hold an event loop on this one (same test process).
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, deliver_due(collector.database, channels, datetime.now(UTC))).result()
    (message,) = mailbox.messages
    link = re.search(
        r"https://portal\.example\.net(/reset\?token=rmr_[\w-]+)", message.get_payload(decode=True).decode()
    )
    assert link is not None
    form = browser.get(link[1])
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token is not None
    fields = {
        "token": token[1],
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "csrf_token": csrf_of(form),
    }
    done = browser.post("/reset", data=fields)
    assert done.status_code == 303 and done.headers["location"] == "/signin"
    assert "Your password is changed. Sign in with the new one." in browser.get("/signin").text
    assert sign_in_through_page(browser, "alice", PASSWORD).status_code == 401
    assert sign_in_through_page(browser, "alice", NEW_PASSWORD).headers["location"] == "/rental"
    again = client(portal).post("/reset", data={**fields, "csrf_token": csrf_of(browser.get(link[1]))})
    assert again.status_code == 403  # another browser: no session, no CSRF token
    reused = browser.post("/reset", data={**fields, "csrf_token": csrf_of(browser.get(link[1]))})
    assert reused.status_code == 400 and "This reset link is not valid any more:" in reused.text
    assert "the reset token is unknown, used or expired" in reused.text


def test_self_sign_up(collector: Collector, portal: RunningPortal) -> None:
    browser = client(portal, language="zh-CN")
    assert 'href="/signup"' in browser.get("/signin").text
    form = browser.get("/signup")
    assert form.status_code == 200 and "创建账户" in form.text
    fields = {"name": "li-wei", "display_name": "李伟", "email": "", "password": PASSWORD,
              "password_again": PASSWORD, "csrf_token": csrf_of(form)}  # fmt: skip
    weak = browser.post("/signup", data={**fields, "password": "short", "password_again": "short"})
    assert weak.status_code == 400 and "请求被拒绝：" in weak.text and 'value="li-wei"' in weak.text  # noqa: RUF001
    made = browser.post("/signup", data=fields)
    assert made.status_code == 303 and made.headers["location"] == "/rental"
    page = browser.get("/rental")
    assert page.status_code == 200 and "李伟" in page.text and "目前没有进行中的租用" in page.text
    other = client(portal)
    taken = other.post("/signup", data={**fields, "csrf_token": csrf_of(other.get("/signup"))})
    assert taken.status_code == 400 and "is taken" in taken.text
