"""Periodic payment and reconciliation in the portal, against a real collector configured with the
Alipay and WeChat Pay stand-ins: a renter signs an agreement from its wallet (the signing page's QR code
and link), the gateway's notification makes it active, the renter cancels it; a payment request's link
(/pay/<invoice>) makes a fresh QR order each time the last one expired and leads to the invoice once it
is paid; the provider's reconciliation page lists runs and open mismatches, resolves one with a reason
(audited) and reconciles a day on demand."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime, timedelta

import httpx

import billing
from collector.accounts.renters import get_or_create_renter
from collector.payments.gateways.periodic import collect_by_gateways
from collector.payments.gateways.polling import query_open_orders
from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import audit_pb2, payments_pb2
from rentmeter.client import AdminClient
from tests.collector.gateways.agreement_standins import AgreementAlipayStandIn, AgreementWeChatPayStandIn
from tests.collector.gateways.helpers import balance, renter, top_up_order
from tests.collector.test_payments import HOUR, START, invoice_for
from tests.portal import qr_paying
from tests.portal.conftest import SignIn, csrf_of

alipay, wechatpay, collector_settings, collector, portal_settings = qr_paying.FIXTURES
PLAN = billing.simple_document("p", "CNY", {"standard": "36.00"})


def test_a_renter_signs_an_agreement_from_the_wallet_and_cancels_it(
    collector: Collector, portal: RunningPortal, sign_in: SignIn, alipay: AgreementAlipayStandIn,
    wechatpay: AgreementWeChatPayStandIn,
) -> None:  # fmt: skip
    renter(collector, "wen")
    browser = sign_in("renter", "wen")
    assert 'href="/wallet/autopay"' in browser.get("/wallet").text
    page = browser.get("/wallet/autopay")
    assert page.status_code == 200 and 'value="alipay"' in page.text and 'value="wechatpay"' in page.text
    refused = browser.post("/wallet/autopay/sign", data={"gateway": "alipay"})  # no CSRF token
    assert refused.status_code == 403 and alipay.agreements == {}
    answer = browser.post("/wallet/autopay/sign", data={"gateway": "alipay", "csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    page = browser.get("/wallet/autopay")
    assert 'data-state="signing"' in page.text and "<svg" in page.text
    link = html.unescape(page.text.split(" data-sign-url", 1)[0].rsplit('href="', 1)[1].rstrip('"'))
    assert link.startswith(alipay.url + "?") and httpx.get(link).status_code == 200  # the payer opens it
    (external_no,) = alipay.agreements  # the stand-in's page was shown to the payer
    qr_paying_notify(portal, alipay.sign(external_no))
    page = browser.get("/wallet/autopay")
    assert (
        'data-state="active"' in page.text and 'value="alipay"' not in page.text
    )  # signed: not offered again
    agreement_id = page.text.split('action="/wallet/autopay/', 1)[1].split("/", 1)[0]
    answer = browser.post(f"/wallet/autopay/{agreement_id}/cancel", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303 and alipay.agreements[external_no]["status"] == "UNSIGN"
    page = browser.get("/wallet/autopay")
    assert 'data-state="cancelled"' in page.text and "invoices are no longer taken automatically" in page.text
    zh = sign_in("renter", "wen", "zh")
    assert "自动支付账单" in zh.get("/wallet/autopay").text


def qr_paying_notify(portal: RunningPortal, form: dict[str, str]) -> None:
    with httpx.Client(base_url=portal.url, timeout=20) as gateway:
        assert gateway.post("/notify/alipay", data=form).text == "success"


def test_the_payment_request_link_makes_a_fresh_order_and_leads_to_the_paid_invoice(
    collector: Collector, portal: RunningPortal, sign_in: SignIn, alipay: AgreementAlipayStandIn
) -> None:
    collector.database.call(get_or_create_renter, "xia", START - 2 * HOUR)
    invoice = invoice_for(collector.database, "xia", seconds=90, document=PLAN)
    link = f"/pay/{invoice.id}"
    assert client_of(portal).get(link).headers["location"] == f"/signin?next={link}"  # sign in first
    browser = sign_in("renter", "xia")
    asyncio.run(
        collect_by_gateways(
            collector.database,
            collector.gateways,
            "https://portal.example.net",
            START + 3 * HOUR,
            timedelta(minutes=15),
        )
    )  # fmt: skip  (the request sent)
    assert "Payment requested" in browser.get(f"/invoices/{invoice.id}").text
    first = browser.get(link)
    assert first.status_code == 303 and first.headers["location"].startswith("/wallet/orders/")
    no = first.headers["location"].rsplit("/", 1)[1]
    assert browser.get(link).headers["location"] == first.headers["location"]  # still open: the same one
    asyncio.run(
        query_open_orders(collector.database, collector.gateways, datetime.now(UTC) + timedelta(hours=1))
    )
    fresh = browser.get(link).headers["location"].rsplit("/", 1)[1]  # the first expired: a new order
    assert fresh != no and fresh.endswith("02") and alipay.trades[fresh]["total_amount"] == "0.90"
    assert "CN¥0.90" in browser.get(f"/wallet/orders/{fresh}").text
    qr_paying.pay_and_notify(portal, alipay, fresh)
    paid = browser.get(link)
    assert paid.headers["location"] == f"/invoices/{invoice.id}"  # paid: nothing more to order
    assert 'data-state="paid"' in browser.get(f"/wallet/orders/{fresh}").text
    assert sign_in("renter", "yan").get(link).status_code == 404  # not another renter's


def client_of(portal: RunningPortal) -> httpx.Client:
    return httpx.Client(base_url=portal.url, timeout=20)


def test_the_reconciliation_page_lists_runs_and_resolves_a_mismatch_with_a_reason(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn,
    alipay: AgreementAlipayStandIn,
) -> None:  # fmt: skip
    zoe = renter(collector, "zoe")
    order = top_up_order(admin, zoe, "alipay", "5.00")
    trade_no = alipay.pay(order.out_trade_no)  # paid, its notification lost
    alipay.statement_csv = alipay.statement([(trade_no, order.out_trade_no, "交易", "5.00", "")])
    browser = sign_in("admin")
    page = browser.get("/admin/reconciliation")
    assert page.status_code == 200 and "No statement has been reconciled yet." in page.text
    answer = browser.post("/admin/reconciliation/run", data={
        "gateway": "alipay", "date": "2026-11-30", "csrf_token": csrf_of(page)})  # fmt: skip
    assert (
        answer.status_code == 303
        and answer.headers["location"] == "/admin/reconciliation?gateway=alipay&date=2026-11-30"
    )
    page = browser.get(answer.headers["location"])
    assert "0 lines matched, 1 mismatches." in page.text
    assert 'data-run="alipay-2026-11-30"' in page.text and 'data-kind="paid_not_credited"' in page.text
    assert order.out_trade_no in page.text and "CN¥5.00" in page.text
    (mismatch,) = admin.payments.ListMismatches(payments_pb2.ListMismatchesRequest()).mismatches
    no_reason = browser.post("/admin/reconciliation/resolve", data={
        "id": str(mismatch.id), "action": "credit", "note": " ", "csrf_token": csrf_of(page)})  # fmt: skip
    assert no_reason.status_code == 409 and "Give the reason" in no_reason.text
    assert not admin.payments.ListMismatches(payments_pb2.ListMismatchesRequest()).mismatches[0].resolved
    token = csrf_of(page)
    done = browser.post("/admin/reconciliation/resolve", data={
        "id": str(mismatch.id), "action": "credit", "note": "lost", "csrf_token": token})  # fmt: skip
    assert done.status_code == 303 and balance(collector, zoe) == 500  # credited once
    page = browser.get("/admin/reconciliation")
    assert "The mismatch is resolved." in page.text and "No open mismatches." in page.text
    again = browser.post("/admin/reconciliation/resolve", data={
        "id": str(mismatch.id), "action": "accept", "note": "twice", "csrf_token": token})  # fmt: skip
    assert again.status_code == 409 and "was resolved at" in again.text  # the collector's sentence
    assert balance(collector, zoe) == 500
    entries = admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest()).entries
    assert "payments:resolve-credit" in [e.action for e in entries]
    bad_day = browser.post("/admin/reconciliation/run", data={
        "gateway": "alipay", "date": "30.11.2026", "csrf_token": csrf_of(page)})  # fmt: skip
    assert bad_day.status_code == 409 and "is not YYYY-MM-DD" in bad_day.text
    zh = sign_in("admin", "", "zh").get("/admin/reconciliation").text
    assert "立即对账" in zh and "最近的对账" in zh
