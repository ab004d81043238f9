"""Paying by Alipay and WeChat Pay in the portal, against a real collector configured with the gateways'
stand-ins: a wallet top-up and an invoice, each from its form to the order's page (QR code and link), paid
at the stand-in whose notification reaches the collector through the portal's /notify endpoint; the
balance rises exactly once; another renter gets 404; refusals are sentences."""

from __future__ import annotations

import re

import httpx

import billing
from collector.server import Collector
from portal.server import RunningPortal
from tests.collector.gateways.helpers import balance, renter
from tests.collector.gateways.standins import AlipayStandIn, WeChatPayStandIn
from tests.collector.test_payments import invoice_for
from tests.portal import qr_paying
from tests.portal.conftest import SignIn, csrf_of

alipay, wechatpay, collector_settings, collector, portal_settings = qr_paying.FIXTURES
ORDER = re.compile(r"^/wallet/orders/(\w+)$")


def top_up_form(browser: httpx.Client, amount: str, gateway: str) -> httpx.Response:
    page = browser.get("/wallet")
    assert page.status_code == 200
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    form = {"csrf_token": csrf_of(page), "key": key.group(1), "qr_amount": amount, "gateway": gateway}
    return browser.post("/wallet/pay", data=form)


def order_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    found = ORDER.match(answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return found.group(1)


def test_a_top_up_by_alipay_is_shown_as_a_qr_code_then_paid_once(
    collector: Collector, portal: RunningPortal, sign_in: SignIn, alipay: AlipayStandIn
) -> None:
    renter(collector, "ann")
    ann = sign_in("renter", "ann")
    wallet = ann.get("/wallet")
    assert 'action="/wallet/pay"' in wallet.text and "Alipay" in wallet.text and "WeChat Pay" in wallet.text
    no = order_of(top_up_form(ann, "20.00", "alipay"))

    page = ann.get(f"/wallet/orders/{no}")
    assert page.status_code == 200 and "<svg" in page.text and "CN¥20.00" in page.text
    assert f'href="https://qr.alipay.com/{no}" data-pay-url' in page.text and "Open in Alipay" in page.text
    assert f'hx-get="/wallet/orders/{no}/state" hx-trigger="every 2s"' in page.text
    assert f'<a href="/wallet/orders/{no}">Refresh</a>' in page.text  # without JavaScript
    waiting = ann.get(f"/wallet/orders/{no}/state")
    assert 'data-state="created"' in waiting.text and "<html" not in waiting.text

    qr_paying.pay_and_notify(portal, alipay, no)
    paid = ann.get(f"/wallet/orders/{no}/state")
    assert 'data-state="paid"' in paid.text and "Paid — your balance is now CN¥20.00." in paid.text
    assert "hx-get" not in paid.text and "<svg" not in paid.text  # the polling stops
    qr_paying.pay_and_notify(portal, alipay, no)  # the gateway repeats its notification
    assert balance(collector, "ann") == 2000
    assert 'data-figure="balance-CNY">CN¥20.00<' in ann.get("/wallet").text

    bob = sign_in("renter", "bob")
    assert bob.get(f"/wallet/orders/{no}").status_code == 404
    assert bob.get(f"/wallet/orders/{no}/state").status_code == 404
    assert ann.get("/wallet/orders/nosuchorder").status_code == 404


def test_a_wechatpay_top_up_in_chinese(
    collector: Collector, portal: RunningPortal, sign_in: SignIn, wechatpay: WeChatPayStandIn
) -> None:
    renter(collector, "cai")
    cai = sign_in("renter", "cai", language="zh")
    assert "微信支付" in cai.get("/wallet").text
    no = order_of(top_up_form(cai, "12.34", "wechatpay"))
    page = cai.get(f"/wallet/orders/{no}")
    assert (
        f'href="weixin://wxpay/bizpayurl?pr={no}" data-pay-url' in page.text and "在微信中打开" in page.text
    )
    qr_paying.pay_and_notify(portal, wechatpay, no)
    assert "已付款 — 您的余额现在是 ¥12.34。" in cai.get(f"/wallet/orders/{no}").text
    assert balance(collector, "cai") == 1234


def test_refused_top_ups_are_sentences_on_the_wallet(
    collector: Collector, sign_in: SignIn, alipay: AlipayStandIn
) -> None:
    renter(collector, "dee")
    dee = sign_in("renter", "dee")
    for amount, gateway, said in [
        ("lots", "alipay", "amount"),
        ("-5.00", "alipay", "amount"),
        ("20.00", "paypal", "not configured"),
    ]:
        refused = top_up_form(dee, amount, gateway)
        assert refused.status_code == 409, (amount, gateway)
        assert "The request was refused:" in refused.text and said in refused.text
        assert f'value="{amount}"' in refused.text  # the amount is kept to correct it
    assert balance(collector, "dee") == 0


def test_an_unpaid_invoice_is_paid_by_qr_code(
    collector: Collector, portal: RunningPortal, sign_in: SignIn, wechatpay: WeChatPayStandIn
) -> None:
    plan = billing.simple_document("p", "CNY", {"standard": "36.00"})  # 1 fen a second
    invoice = invoice_for(collector.database, "eve", seconds=300, document=plan)
    eve = sign_in("renter", "eve")
    page = eve.get(f"/invoices/{invoice.id}")
    assert f'action="/invoices/{invoice.id}/pay"' in page.text and "Pay CN¥3.00" in page.text

    fay = sign_in("renter", "fay")
    other = fay.post(f"/invoices/{invoice.id}/pay", data={"csrf_token": csrf_of(fay.get("/wallet")),
                                                          "gateway": "wechatpay"})  # fmt: skip
    assert other.status_code == 404

    no = order_of(eve.post(f"/invoices/{invoice.id}/pay", data={"csrf_token": csrf_of(page),
                                                                "gateway": "wechatpay"}))  # fmt: skip
    order = eve.get(f"/wallet/orders/{no}")
    assert "CN¥3.00" in order.text and f'href="/invoices/{invoice.id}"' in order.text and "<svg" in order.text
    qr_paying.pay_and_notify(portal, wechatpay, no)
    assert "Paid — the invoice is settled." in eve.get(f"/wallet/orders/{no}").text
    settled = eve.get(f"/invoices/{invoice.id}")
    assert f'action="/invoices/{invoice.id}/pay"' not in settled.text  # nothing left to pay
    again = eve.post(
        f"/invoices/{invoice.id}/pay", data={"csrf_token": csrf_of(settled), "gateway": "alipay"}
    )
    assert again.status_code == 409 and "paid already" in again.text
