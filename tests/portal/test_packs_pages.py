"""Time packs in the portal against a real collector: bought on the wallet page (once per form, a refusal
is the collector's sentence), listed with their time left, and My rental showing the pack time left and
the forecast; in a real browser in English and Chinese at both widths, with screenshots."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import grpc
import httpx
import pytest

from agent.identity import Identity
from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import plans_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.test_packs_api import PACK_PLAN
from tests.portal.browsing import DESKTOP, PHONE, Tab
from tests.portal.conftest import SignIn, csrf_of, open_rental, report_usage

CNY_PLAN = PACK_PLAN.replace('currency = "EUR"', 'currency = "CNY"')


def text_of(page: httpx.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def figure(page: httpx.Response, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', page.text)
    assert found, f"no figure {name}"
    return html.unescape(found.group(1)).strip()


def buy(browser: httpx.Client, page: httpx.Response, offer: str, when: str = "payg") -> httpx.Response:
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key
    form = {"csrf_token": csrf_of(page), "offer": offer, "when_used_up": when, "key": key.group(1)}
    return browser.post("/wallet/packs", data=form)


def test_a_pack_is_bought_on_the_wallet_page_and_shown_with_its_time(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity,
    channel: grpc.Channel, sign_in: SignIn,
) -> None:  # fmt: skip
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PACK_PLAN))
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="ann", amount="12.00", currency="EUR", idempotency_key="t")
    )
    ann = sign_in("renter", "ann")
    page = ann.get("/wallet")
    assert "You have no time packs." in page.text
    assert '<option value="cafe\x1f3 hours">cafe: 3 hours — €10.00</option>' in page.text
    done = buy(ann, page, "cafe\x1f3 hours", "stop")
    assert done.status_code == 303 and done.headers["location"] == "/wallet"
    page = ann.get("/wallet")
    assert "You bought the 3 hours pack for €10.00." in text_of(page)
    (pack,) = admin.wallets.ListPacks(wallets_pb2.ListPacksRequest(renter="ann")).packs
    row = page.text.split(f'data-pack="{pack.id}"')[1].split("</tr>")[0]
    assert "3 h 00 min" in row and "Stop the rental" in row and "Active" in row
    history = re.findall(r"<tr data-transaction=.*?</tr>", page.text, re.S)[0]
    assert "Time pack bought" in history and "-€10.00" in history
    assert figure(page, "balance-EUR") == "€2.00"
    refused = buy(ann, page, "cafe\x1f3 hours")  # 2.00 left
    assert refused.status_code == 409
    said = "the wallet of ann has 2.00 EUR available: the 3 hours pack costs 10.00 EUR; top it up first"
    assert said in text_of(refused) and 'role="alert"' in refused.text
    # My rental: the pack pays the time, so nothing is charged yet; its time left is shown.
    rental = open_rental(admin, machine.agent_id, "ann", plan="cafe")
    report_usage(channel, machine, rental, seconds=1.5)
    mine = ann.get("/rental")
    assert re.fullmatch(r"2 h 59 min", figure(mine, "pack-left"))
    assert figure(mine, "cost") == "€0.00"
    chinese = sign_in("renter", "ann", language="zh")
    assert "时长包" in chinese.get("/wallet").text and "时长包剩余" in chinese.get("/rental").text


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_buying_a_pack_in_the_browser(
    collector: Collector, admin: AdminClient, machine: Identity, channel: grpc.Channel,
    tabs: Callable[..., Tab], language: str, size: dict[str, int],
) -> None:  # fmt: skip
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=CNY_PLAN))
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="li", amount="30.00", currency="CNY", idempotency_key="t")
    )
    tab = tabs(language, size)
    tab.sign_in(admin, "renter", "li")
    page = tab.page
    page.goto("/wallet")
    page.locator("#offer").select_option(value="cafe\x1fhalf hour")
    page.locator('input[name="when_used_up"][value="stop"]').check()
    page.locator("form.buy-pack button.primary").click()
    page.wait_for_url(re.compile(r"/wallet$"))
    (pack,) = admin.wallets.ListPacks(wallets_pb2.ListPacksRequest(renter="li")).packs
    assert pack.when_used_up == "stop" and pack.price.display == "5.00 CNY"
    left = page.locator(f'[data-pack="{pack.id}"] [data-figure="pack-left"]').inner_text()
    assert re.match(r"30\D", left), left  # 30 minutes (and 00 seconds), in the page's language
    assert page.locator('[data-figure="balance-CNY"]').inner_text().endswith("¥25.00")  # CN¥ in English
    tab.shot("renter-wallet-packs")
    rental = open_rental(admin, machine.agent_id, "li", plan="cafe")
    report_usage(channel, machine, rental, seconds=1.5)
    page.goto("/rental")
    assert re.match(r"29\D", page.locator('[data-figure="pack-left"]').inner_text())
    tab.shot("renter-rental-pack")
