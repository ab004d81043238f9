"""Paying by QR code in a real browser (chromium through Playwright) against a real collector configured
with the Alipay and WeChat Pay stand-ins: a renter tops up by QR, the stand-in marks the order paid and
notifies the portal, and the order page (polling by itself) shows the balance risen; the order page at
desktop and phone width in English and Chinese, without sideways scrolling or a CSP violation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from collector.server import Collector
from portal.server import RunningPortal
from rentmeter.client import AdminClient
from tests.collector.gateways.helpers import balance, renter
from tests.collector.gateways.standins import AlipayStandIn, WeChatPayStandIn
from tests.portal import qr_paying
from tests.portal.browsing import DESKTOP, PHONE, Tab

alipay, wechatpay, collector_settings, collector, portal_settings = qr_paying.FIXTURES
pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def start_top_up(tab: Tab, amount: str, gateway_label: str, continue_label: str) -> str:
    """Fill the wallet's QR form; the out-trade number of the order page it leads to."""
    page = tab.page
    page.goto("/wallet")
    page.locator("#qr_amount").fill(amount)
    page.get_by_label(gateway_label, exact=True).check()
    page.get_by_role("button", name=continue_label).click()
    page.wait_for_url("**/wallet/orders/*")
    return page.url.rsplit("/", 1)[1]


def test_a_renter_tops_up_by_qr_code_and_sees_the_balance_rise(
    collector: Collector, admin: AdminClient, portal: RunningPortal, tabs: Callable[..., Tab],
    alipay: AlipayStandIn,
) -> None:  # fmt: skip
    renter(collector, "mei")
    tab = tabs("en")
    tab.sign_in(admin, "renter", "mei")
    no = start_top_up(tab, "30.00", "Alipay", "Continue to payment")
    page = tab.page
    assert page.locator(".qr svg").is_visible()
    assert (
        page.get_by_role("link", name="Open in Alipay").get_attribute("href") == f"https://qr.alipay.com/{no}"
    )
    qr_paying.pay_and_notify(portal, alipay, no)
    paid = page.locator("[data-paid]")
    paid.wait_for(timeout=10_000)  # the page asked again by itself (htmx, every 2 s)
    assert paid.inner_text() == "Paid — your balance is now CN¥30.00."
    assert page.locator(".qr svg").count() == 0
    assert balance(collector, "mei") == 3000
    page.goto("/wallet")
    assert page.locator('[data-figure="balance-CNY"]').inner_text() == "CN¥30.00"


LABELS = {"en": ("WeChat Pay", "Continue to payment"), "zh": ("微信支付", "前往付款")}


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_order_page_at_both_widths_in_both_languages(
    collector: Collector, admin: AdminClient, portal: RunningPortal, tabs: Callable[..., Tab],
    wechatpay: WeChatPayStandIn, language: str, size: dict[str, int],
) -> None:  # fmt: skip
    renter(collector, "wu")
    tab = tabs(language, size)
    tab.sign_in(admin, "renter", "wu")
    tab.page.goto("/wallet")
    tab.shot("qr-wallet")
    no = start_top_up(tab, "88.00", *LABELS[language])
    assert tab.page.locator(".qr svg").is_visible()
    tab.shot("qr-order-waiting")
    qr_paying.pay_and_notify(portal, wechatpay, no)
    tab.page.locator("[data-paid]").wait_for(timeout=10_000)
    assert "¥88.00" in tab.page.locator("[data-paid]").inner_text()
    tab.shot("qr-order-paid")
