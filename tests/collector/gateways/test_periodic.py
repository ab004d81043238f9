"""Periodic payment through the stand-ins, driven through the real SDKs, on SQLite and PostgreSQL: an
agreement signed (its notification verified) → an invoice → taken once under the agreement by the
collection job → the ledger; a refused deduction falls back to a payment request (e-mail and webhook with
the portal link) on the dunning schedule; paying the link's fresh order pays the invoice once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from sqlalchemy import select

import billing
from collector.accounts.renters import get_or_create_renter, update_renter
from collector.accounts.wallets import account_balance, check_ledger
from collector.config import CollectorSettings
from collector.db.models import Invoice, Notification, Payment
from collector.invoicing.invoices import close_invoices
from collector.payments.gateways.periodic import collect_by_gateways
from collector.scheduler import collect_invoices
from collector.server import Collector
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session, stop_session
from protos.rentmeter.v1 import payments_pb2
from rentmeter.client import AdminClient
from tests.collector.gateways.agreement_standins import AgreementAlipayStandIn, AgreementWeChatPayStandIn
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import report_every_second
from tests.collector.test_payments import HOUR, START, invoice_for

PLAN = billing.simple_document("p", "CNY", {"standard": "36.00"})  # 1 fen a second
ISSUED = START + 2 * HOUR  # invoice_for's invoices are issued then
LINK = "https://portal.example.net/pay/"


@pytest.fixture
def collector_settings(collector_settings: CollectorSettings, db_url: str) -> CollectorSettings:
    return replace(collector_settings, db_url=db_url)


def collect(collector: Collector, now: datetime) -> None:
    """The collection job's gateway part at `now`."""
    asyncio.run(collect_by_gateways(collector.database, collector.gateways, "https://portal.example.net", now,
                                    timedelta(minutes=15)))  # fmt: skip


def signed_renter(collector: Collector, admin: AdminClient, name: str, gateway: str, http: httpx.Client,
                  stand_in: Any) -> payments_pb2.PaymentAgreement:  # fmt: skip
    """A renter with an e-mail address who signed an agreement: its signing page opened, the gateway's
    notification POSTed to the portal (twice: a replay changes nothing)."""
    collector.database.call(get_or_create_renter, name, START - 2 * HOUR)  # before its invoice's period
    collector.database.call(update_renter, name, START - 2 * HOUR, email=f"{name}@example.net")
    started = admin.payments.StartAgreement(payments_pb2.StartAgreementRequest(renter=name, gateway=gateway))
    assert started.state == "signing" and started.sign_url
    if gateway == "alipay":
        assert httpx.get(started.sign_url).status_code == 200  # the payer's browser: the signature verifies
        form = stand_in.sign(started.external_no)
        for _ in range(2):
            assert http.post("/notify/alipay", data=form).text == "success"
    else:
        assert started.sign_url.startswith("https://api.mch.weixin.qq.com/papay/entrustweb")
        headers, body = stand_in.sign(started.external_no)
        for _ in range(2):
            assert http.post("/notify/wechatpay", content=body, headers=headers).status_code == 200
    (agreement,) = admin.payments.ListAgreements(payments_pb2.ListAgreementsRequest(renter=name)).agreements
    assert agreement.state == "active" and agreement.agreement_no and not agreement.sign_url
    return agreement


def invoice_row(collector: Collector, invoice_id: str) -> Invoice:
    return collector.database.call(lambda db: db.get(Invoice, invoice_id))


def outbox(collector: Collector, event: str) -> list[dict[str, Any]]:
    query = select(Notification).where(Notification.event == event).order_by(Notification.id)
    return collector.database.call(lambda db: [dict(n.payload, channel=n.channel) for n in db.scalars(query)])


def attempts(collector: Collector, invoice_id: str) -> list[tuple[str, bool]]:
    query = select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)
    return collector.database.call(lambda db: [(p.provider, p.succeeded) for p in db.scalars(query)])


def test_an_invoice_is_taken_once_under_an_alipay_agreement(
    collector: Collector, admin: AdminClient, alipay: AgreementAlipayStandIn, gateway_http: httpx.Client
) -> None:
    signed_renter(collector, admin, "nora", "alipay", gateway_http, alipay)
    invoice = invoice_for(collector.database, "nora", seconds=300, document=PLAN)
    db = collector.database
    assert db.call(account_balance, "receivable:nora", "CNY") == 300
    collect(collector, ISSUED + timedelta(minutes=1))
    assert len(alipay.charges) == 1 and alipay.total_taken() == 300
    assert invoice_row(collector, invoice.id).paid_at is not None
    assert db.call(account_balance, "receivable:nora", "CNY") == 0 and db.call(check_ledger).balanced
    assert db.call(account_balance, "cash", "CNY") == 300
    for later in (timedelta(days=1, minutes=1), timedelta(days=8)):  # the dunning steps: nothing more
        collect(collector, ISSUED + later)
    assert len(alipay.charges) == 1 and attempts(collector, invoice.id) == [("alipay", True)]
    assert [n["invoice_id"] for n in outbox(collector, "invoice.paid")] == [invoice.id]
    assert outbox(collector, "payment.requested") == []


def test_a_wechatpay_deduction_is_accepted_then_notified_paid_once(
    collector: Collector, admin: AdminClient, wechatpay: AgreementWeChatPayStandIn, gateway_http: httpx.Client
) -> None:
    signed_renter(collector, admin, "omar", "wechatpay", gateway_http, wechatpay)
    invoice = invoice_for(collector.database, "omar", seconds=250, document=PLAN)
    now = datetime.now(UTC)  # later than the invoice: due; the deduction's order open from now on
    collect(collector, now)
    (no,) = wechatpay.deductions
    assert invoice_row(collector, invoice.id).paid_at is None  # accepted, not yet taken
    collect(collector, now + timedelta(minutes=1))  # the deduction's order is open: nothing asked again
    assert wechatpay.deductions == [no] and outbox(collector, "payment.requested") == []
    with pytest.raises(grpc.RpcError) as under_way:  # no QR order while the deduction may still take it
        admin.payments.CreateOrder(payments_pb2.CreateOrderRequest(
            renter="omar", gateway="wechatpay", method="qr", invoice_id=invoice.id))  # fmt: skip
    assert under_way.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    wechatpay.pay(no)
    headers, body = wechatpay.paid_notification(no)
    for _ in range(2):  # replayed: applied once
        assert gateway_http.post("/notify/wechatpay", content=body, headers=headers).status_code == 200
    assert invoice_row(collector, invoice.id).paid_at is not None
    assert collector.database.call(account_balance, "cash", "CNY") == 250
    assert attempts(collector, invoice.id) == [("wechatpay", True)]
    collect(collector, now + timedelta(days=8))
    assert wechatpay.deductions == [no]


def test_a_refused_deduction_falls_back_to_a_payment_request_on_the_dunning_schedule(
    collector: Collector, admin: AdminClient, alipay: AgreementAlipayStandIn, gateway_http: httpx.Client
) -> None:
    agreement = signed_renter(collector, admin, "pia", "alipay", gateway_http, alipay)
    alipay.declined.add(agreement.agreement_no)
    invoice = invoice_for(collector.database, "pia", seconds=120, document=PLAN)
    collect(collector, ISSUED + timedelta(minutes=1))
    assert alipay.charges == [] and invoice_row(collector, invoice.id).collection_attempts == 1
    (failed,) = outbox(collector, "payment.failed")
    assert "买家余额不足" in failed["error"] and failed["next_attempt_at"]
    requests = outbox(collector, "payment.requested")
    assert {(n["channel"], n.get("link") or n.get("to")) for n in requests} == {
        ("webhook", LINK + invoice.id), ("email", "pia@example.net")}  # fmt: skip
    mail = next(n for n in requests if n["channel"] == "email")
    assert LINK + invoice.id in mail["text"] and "qr.alipay.com" not in mail["text"]  # no expiring QR code
    collect(collector, ISSUED + timedelta(hours=5))  # not due before the next dunning step
    assert len(outbox(collector, "payment.requested")) == 2
    collect(collector, ISSUED + timedelta(days=1, minutes=1))  # the second step: refused again, asked again
    assert len(outbox(collector, "payment.requested")) == 4
    assert invoice_row(collector, invoice.id).collection_attempts == 2
    assert [p for p in attempts(collector, invoice.id)] == [("alipay", False), ("request", False)] * 2
    # The renter opens the link later: the portal makes a fresh QR order, paid at Alipay, notified.
    order = admin.payments.CreateOrder(payments_pb2.CreateOrderRequest(
        renter="pia", gateway="alipay", method="qr", invoice_id=invoice.id))  # fmt: skip
    assert order.out_trade_no.endswith("03")  # after the two refused deductions
    alipay.pay(order.out_trade_no)
    for _ in range(2):
        assert (
            gateway_http.post("/notify/alipay", data=alipay.notification(order.out_trade_no)).text
            == "success"
        )
    assert invoice_row(collector, invoice.id).paid_at is not None
    collect(collector, ISSUED + timedelta(days=3, minutes=1))
    assert alipay.charges == [] and len(outbox(collector, "payment.requested")) == 4
    db = collector.database
    assert (
        db.call(account_balance, "cash", "CNY") == 120
        and db.call(account_balance, "receivable:pia", "CNY") == 0
    )
    with pytest.raises(grpc.RpcError) as paid:  # a paid invoice gets no new order
        admin.payments.CreateOrder(payments_pb2.CreateOrderRequest(
            renter="pia", gateway="wechatpay", method="qr", invoice_id=invoice.id))  # fmt: skip
    assert paid.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_without_an_agreement_a_payment_request_goes_out_until_overdue(
    collector: Collector, admin: AdminClient
) -> None:
    collector.database.call(get_or_create_renter, "quinn", START - 2 * HOUR)  # no e-mail: the webhook only
    invoice = invoice_for(collector.database, "quinn", seconds=60, document=PLAN)
    for step in (timedelta(0), timedelta(days=1), timedelta(days=3), timedelta(days=7), timedelta(days=9)):
        collect(collector, ISSUED + step + timedelta(minutes=1))
    requests = outbox(collector, "payment.requested")
    assert [(n["channel"], n["attempt"]) for n in requests] == [("webhook", n) for n in (1, 2, 3, 4)]
    row = invoice_row(collector, invoice.id)
    assert row.collection_attempts == 4 and row.next_collection_at is None  # overdue: no further step


def test_agreements_are_cancelled_at_the_gateway_or_from_the_app_and_forgeries_are_refused(
    collector: Collector, admin: AdminClient, alipay: AgreementAlipayStandIn, gateway_http: httpx.Client,
    wechatpay: AgreementWeChatPayStandIn,
) -> None:  # fmt: skip
    ali = signed_renter(collector, admin, "rui", "alipay", gateway_http, alipay)
    wx = signed_renter(collector, admin, "sam", "wechatpay", gateway_http, wechatpay)
    with pytest.raises(grpc.RpcError) as twice:
        admin.payments.StartAgreement(payments_pb2.StartAgreementRequest(renter="rui", gateway="alipay"))
    assert twice.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    done = admin.payments.CancelAgreement(payments_pb2.CancelAgreementRequest(id=ali.id))
    assert done.state == "cancelled" and alipay.agreements[ali.external_no]["status"] == "UNSIGN"
    assert "alipay.user.agreement.unsign" in alipay.requests and not alipay.refused
    # Ended by the payer in the WeChat app: the notification cancels it here.
    wechatpay.contracts[wx.external_no]["contract_state"] = "TERMINATED"
    headers, body = wechatpay.contract_notification(wx.external_no, "PAPAY.TERMINATE")
    assert gateway_http.post("/notify/wechatpay", content=body, headers=headers).status_code == 200
    states = admin.payments.ListAgreements(payments_pb2.ListAgreementsRequest()).agreements
    assert sorted((a.renter, a.state) for a in states) == [("rui", "cancelled"), ("sam", "cancelled")]
    forged = alipay.sign(alipay.agreements[ali.external_no]["external_agreement_no"])
    forged["status"] = "NORMAL"
    forged["agreement_no"] = "2026forged"  # altered after signing
    assert gateway_http.post("/notify/alipay", data=forged).text == "failure"
    wechatpay.contracts[wx.external_no]["contract_state"] = "SIGNED"
    headers, body = wechatpay.contract_notification(wx.external_no, "PAPAY.SIGN")
    altered = body.replace(b'"PAPAY.SIGN"', b'"PAPAY.SIGN" ')  # the signed body, changed
    assert gateway_http.post("/notify/wechatpay", content=altered, headers=headers).status_code == 400
    states = admin.payments.ListAgreements(payments_pb2.ListAgreementsRequest()).agreements
    assert sorted(a.state for a in states) == ["cancelled", "cancelled"]  # nothing re-signed


def invoices_for(collector: Collector, renters: tuple[str, ...], seconds: int = 60) -> dict[str, Invoice]:
    """One invoice of each renter (a session each on its own machine), closed together."""
    database = collector.database
    database.call(create_plan, PLAN, START - HOUR)
    for name in renters:
        machine = enrolled_machine(database, START - HOUR)
        rental = database.call(
            start_session, agent_id=machine.agent_id, renter_id=name, plan_name="p", now=START
        )
        report_every_second(database, machine, START, seconds)
        database.call(stop_session, rental.id, START + timedelta(seconds=seconds))
    closed = database.call(close_invoices, ISSUED, period=HOUR, grace=timedelta(0))
    return {invoice.renter_id: invoice for invoice in closed}


def test_one_failing_deduction_does_not_stop_the_collection_job(
    collector: Collector, admin: AdminClient, alipay: AgreementAlipayStandIn, gateway_http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    signed_renter(collector, admin, "ike", "alipay", gateway_http, alipay)
    collector.database.call(get_or_create_renter, "jo", START - 2 * HOUR)
    invoices = invoices_for(collector, ("ike", "jo"))

    def broken(*args: object) -> None:
        raise RuntimeError("the SDK broke")

    monkeypatch.setattr(collector.gateways["alipay"], "deduct", broken)
    job = asyncio.run(
        collect_invoices(
            collector.database, {}, collector.gateways, collector.settings, ISSUED + timedelta(minutes=1)
        )
    )  # fmt: skip  (the scheduler's job)
    assert job.produced == 2 and job.failed == []
    assert [n["invoice_id"] for n in outbox(collector, "payment.requested")] == [invoices["jo"].id]
    assert invoice_row(collector, invoices["ike"].id).collection_attempts == 1  # left for the next step
    monkeypatch.undo()
    collect(collector, ISSUED + timedelta(days=1, minutes=1))
    assert len(alipay.charges) == 1 and invoice_row(collector, invoices["ike"].id).paid_at is not None
