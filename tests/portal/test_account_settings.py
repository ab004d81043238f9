"""Account settings (/settings) for every role, against the real collector: name, language and time zone
saved on the account (AccountService.UpdateAccount) and used at once; a new password (ChangePassword)
keeps this browser signed in and the old one stops working; refusals are the collector's sentences."""

from __future__ import annotations

import html
import re

from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import accounts_pb2
from rentmeter.client import AdminClient
from tests.portal.conftest import PASSWORD, SignIn, admin_accounts, client, csrf_of, sign_in_through_page


def account_named(admin: AdminClient, prefix: str) -> accounts_pb2.Account:
    accounts = admin_accounts(admin).ListAccounts(accounts_pb2.ListAccountsRequest()).accounts
    (found,) = [a for a in accounts if a.name.startswith(prefix)]
    return found


def test_every_role_reaches_its_settings_from_the_header(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    for role, subject in (("renter", "alice"), ("host", "h1"), ("admin", "")):
        browser = sign_in(role, subject)
        page = browser.get("/settings")
        assert page.status_code == 200, role
        header = page.text.split("</header>")[0]
        assert 'href="/settings" aria-current="page"' in header
        assert 'action="/settings/profile"' in page.text and 'action="/settings/password"' in page.text
        assert '<label for="time_zone">' in page.text and 'autocomplete="current-password"' in page.text
    assert client(portal).get("/settings").headers["location"] == "/signin?next=/settings"


def test_name_language_and_time_zone_are_saved_and_used(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    browser = sign_in("renter", "alice")
    token = csrf_of(browser.get("/settings"))
    form = {"csrf_token": token, "display_name": "Alice Li", "locale": "zh-CN", "time_zone": "Asia/Shanghai"}
    saved = browser.post("/settings/profile", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/settings"
    assert saved.headers["set-cookie"].startswith("lang=zh_CN")
    account = account_named(admin, "renter-alice")
    assert (account.display_name, account.locale, account.time_zone) == ("Alice Li", "zh-CN", "Asia/Shanghai")
    page = browser.get("/settings")
    assert '<html lang="zh-CN">' in page.text and "设置已保存" in page.text
    assert '<span class="who">Alice Li</span>' in page.text
    assert '<option value="Asia/Shanghai" selected>' in page.text

    form = {"csrf_token": token, "display_name": "", "locale": "", "time_zone": "Mars/Olympus_Mons"}
    refused = browser.post("/settings/profile", data=form)
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    assert "Mars/Olympus_Mons" in html.unescape(refused.text)  # the collector's sentence names it
    assert account_named(admin, "renter-alice").time_zone == "Asia/Shanghai"  # nothing changed

    form = {"csrf_token": token, "display_name": "", "locale": "", "time_zone": ""}
    back = browser.post("/settings/profile", data=form)
    assert back.status_code == 303 and 'lang=""' in back.headers["set-cookie"]  # the browser's again
    assert '<html lang="en">' in browser.get("/settings").text


def test_a_new_password_keeps_this_browser_signed_in(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    browser = sign_in("host", "h1")
    name = account_named(admin, "host-h1").name
    token = csrf_of(browser.get("/settings"))

    def change(current: str, new: str) -> tuple[int, str]:
        form = {"csrf_token": token, "current_password": current, "new_password": new}
        answer = browser.post("/settings/password", data=form)
        return answer.status_code, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.text)).split())

    status, text = change("not my password", "a much better passphrase")
    assert status == 409 and "The password was not changed: the current password is wrong" in text
    status, text = change(PASSWORD, "short")
    assert status == 409 and "new_password: at least 10 characters" in text
    assert browser.get("/settings").status_code == 200  # still signed in after both refusals
    assert change(PASSWORD, "a much better passphrase")[0] == 303
    page = browser.get("/settings")
    assert page.status_code == 200 and "Your password is changed." in page.text
    other = client(portal)
    assert sign_in_through_page(other, name, PASSWORD).status_code == 401  # the old one no longer works
    assert sign_in_through_page(client(portal), name, "a much better passphrase").status_code == 303
