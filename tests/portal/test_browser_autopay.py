"""Periodic payment and reconciliation in a real browser (chromium through Playwright) against a real
collector configured with the Alipay and WeChat Pay stand-ins: a renter signs a WeChat Pay agreement from
its wallet (the signing QR code shown), the stand-in's notification makes it active; the provider resolves
a reconciliation mismatch with a reason. Both pages at desktop and phone width in English and Chinese
(screenshots, no sideways scrolling, no Content-Security-Policy violation)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import payments_pb2
from rentmeter.client import AdminClient
from tests.collector.gateways.agreement_standins import AgreementAlipayStandIn, AgreementWeChatPayStandIn
from tests.collector.gateways.helpers import renter, top_up_order
from tests.portal import qr_paying
from tests.portal.browsing import DESKTOP, PHONE, Tab

alipay, wechatpay, collector_settings, collector, portal_settings = qr_paying.FIXTURES
pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

LABELS = {"en": ("WeChat Pay", "Continue to signing"), "zh": ("微信支付", "前往签约")}


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_renter_signs_a_wechatpay_agreement_in_the_browser(
    collector: Collector, admin: AdminClient, portal: RunningPortal, tabs: Callable[..., Tab],
    wechatpay: AgreementWeChatPayStandIn, language: str, size: dict[str, int],
) -> None:  # fmt: skip
    renter(collector, "ada")
    tab = tabs(language, size)
    tab.sign_in(admin, "renter", "ada")
    page = tab.page
    page.goto("/wallet")
    page.locator("[data-autopay-link]").click()
    page.wait_for_url("**/wallet/autopay")
    tab.shot("autopay-offered")
    gateway_label, continue_label = LABELS[language]
    page.get_by_label(gateway_label, exact=True).check()
    page.get_by_role("button", name=continue_label).click()
    card = page.locator('[data-agreement="wechatpay"][data-state="signing"]')
    card.wait_for()
    assert card.locator(".qr svg").is_visible()
    assert page.locator("[data-sign-url]").get_attribute("href").startswith("https://api.mch.weixin.qq.com/")
    tab.shot("autopay-signing")
    (code,) = wechatpay.contracts
    headers, body = wechatpay.sign(code)
    with httpx.Client(base_url=portal.url, timeout=20) as gateway:
        assert gateway.post("/notify/wechatpay", content=body, headers=headers).status_code == 200
    page.reload()
    page.locator('[data-agreement="wechatpay"][data-state="active"]').wait_for()
    tab.shot("autopay-active")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_provider_resolves_a_mismatch_in_the_browser(
    collector: Collector, admin: AdminClient, portal: RunningPortal, tabs: Callable[..., Tab],
    alipay: AgreementAlipayStandIn, language: str, size: dict[str, int],
) -> None:  # fmt: skip
    bo = renter(collector, "bo")
    order = top_up_order(admin, bo, "alipay", "7.00")
    trade_no = alipay.pay(order.out_trade_no)
    stranger = ("2026stranger", "RMTstranger0000000000000001", "交易", "1.00", "")
    statement = alipay.statement([(trade_no, order.out_trade_no, "交易", "7.00", ""), stranger])
    admin.payments.Reconcile(payments_pb2.ReconcileRequest(
        gateway="alipay", date="2026-11-30", statement=statement.encode("gbk")))  # fmt: skip
    tab = tabs(language, size)
    tab.sign_in(admin, "admin")
    page = tab.page
    page.goto("/admin/reconciliation")
    rows = page.locator("tr[data-mismatch]")
    assert rows.count() == 2 and page.locator('tr[data-run="alipay-2026-11-30"]').count() == 1
    tab.shot("admin-reconciliation")
    row = page.locator("tr[data-mismatch]", has_text="RMTstranger0000000000000001")
    row.locator("input[name=note]").fill("not one of ours: asked Alipay")
    row.locator("select[name=action]").select_option("accept")
    row.locator("button[type=submit]").click()
    page.locator("tr[data-mismatch]").first.wait_for()
    assert page.locator("tr[data-mismatch]").count() == 1
    left = admin.payments.ListMismatches(payments_pb2.ListMismatchesRequest()).mismatches
    assert [m.reference for m in left] == [order.out_trade_no]
    tab.shot("admin-reconciliation-resolved")
