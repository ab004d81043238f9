"""What the notifications miss: the query job finds paid orders (credited once) and closes expired ones;
refunds (partial, whole, failed) and withdrawals; reconciliation with each kind of mismatch."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import grpc
import httpx
import pytest

from collector.db.models import GatewayRefund
from collector.payments.gateways.polling import query_open_orders
from collector.server import Collector
from protos.rentmeter.v1 import payments_pb2
from rentmeter.client import AdminClient
from tests.collector.gateways.helpers import balance, renter, state, top_up_order
from tests.collector.gateways.standins import AlipayStandIn, WeChatPayStandIn


def run_query_job(collector: Collector, later: timedelta) -> None:
    asyncio.run(query_open_orders(collector.database, collector.gateways, datetime.now(UTC) + later))


def test_a_lost_notification_is_recovered_by_the_query_job(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn, wechatpay: WeChatPayStandIn
) -> None:
    hana = renter(collector, "hana")
    paid_a = top_up_order(admin, hana, "alipay", "3.00", key="a")
    paid_w = top_up_order(admin, hana, "wechatpay", "4.00", key="w")
    never = top_up_order(admin, hana, "wechatpay", "5.00", key="n")
    alipay.pay(paid_a.out_trade_no)
    wechatpay.pay(paid_w.out_trade_no)
    run_query_job(collector, timedelta(seconds=5))  # too early: the notification usually comes first
    assert balance(collector, hana) == 0
    run_query_job(collector, timedelta(minutes=1))
    assert balance(collector, hana) == 700
    assert [state(admin, o.out_trade_no) for o in (paid_a, paid_w, never)] == ["paid", "paid", "created"]
    run_query_job(collector, timedelta(minutes=2))  # asked again: credited once
    assert balance(collector, hana) == 700
    run_query_job(collector, timedelta(minutes=20))  # past its time: closed at the gateway, expired here
    assert state(admin, never.out_trade_no) == "expired"
    assert wechatpay.trades[never.out_trade_no]["trade_state"] == "CLOSED"
    again = top_up_order(admin, hana, "wechatpay", "5.00", key="n")  # the same request: a new attempt
    assert again.out_trade_no != never.out_trade_no and again.out_trade_no.endswith("02")


def test_partial_refunds_and_a_withdrawal_go_back_through_the_gateway(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn, wechatpay: WeChatPayStandIn,
    gateway_http: httpx.Client,
) -> None:  # fmt: skip
    ivan = renter(collector, "ivan")
    order_a = top_up_order(admin, ivan, "alipay", "10.00", key="a")
    order_w = top_up_order(admin, ivan, "wechatpay", "6.00", key="w")
    alipay.pay(order_a.out_trade_no)
    wechatpay.pay(order_w.out_trade_no)
    run_query_job(collector, timedelta(minutes=1))
    assert balance(collector, ivan) == 1600
    refund = admin.payments.RefundOrder(payments_pb2.RefundOrderRequest(
        out_trade_no=order_a.out_trade_no, amount="2.50", reason="unused time"))  # fmt: skip
    assert (refund.state, refund.amount.minor_units) == ("succeeded", 250)  # Alipay answers at once
    assert alipay.refunds[-1]["refund_amount"] == "2.50" and balance(collector, ivan) == 1350
    with pytest.raises(grpc.RpcError) as refused:  # more than what is left of the order
        admin.payments.RefundOrder(
            payments_pb2.RefundOrderRequest(out_trade_no=order_a.out_trade_no, amount="8.00")
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # A withdrawal of 7.00: the newest top-up (WeChat Pay, 6.00) whole, then 1.00 of the Alipay one.
    done = admin.payments.WithdrawWallet(payments_pb2.WithdrawWalletRequest(renter=ivan, amount="7.00"))
    assert [(r.out_trade_no, r.amount.minor_units, r.state) for r in done.refunds] == [
        (order_w.out_trade_no, 600, "pending"), (order_a.out_trade_no, 100, "succeeded")]  # fmt: skip
    assert balance(collector, ivan) == 650  # taken from the wallet when asked for
    pending = done.refunds[0].out_refund_no
    resource = {**wechatpay.refunds[pending], "refund_status": "SUCCESS", "mchid": wechatpay.mchid}
    headers, body = wechatpay.notification("REFUND.SUCCESS", resource)
    assert gateway_http.post("/notify/wechatpay", content=body, headers=headers).status_code == 200
    assert (
        gateway_http.post("/notify/wechatpay", content=body, headers=headers).status_code == 200
    )  # replayed
    assert balance(collector, ivan) == 650 and state(admin, order_w.out_trade_no) == "refunded"
    states = collector.database.call(lambda db: {r.out_refund_no: r.state for r in db.query(GatewayRefund)})
    assert states[pending] == "succeeded"


def test_a_refund_the_gateway_fails_is_reversed(
    collector: Collector, admin: AdminClient, wechatpay: WeChatPayStandIn, gateway_http: httpx.Client
) -> None:
    jun = renter(collector, "jun")
    order = top_up_order(admin, jun, "wechatpay", "8.00")
    wechatpay.pay(order.out_trade_no)
    run_query_job(collector, timedelta(minutes=1))
    refund = admin.payments.RefundOrder(
        payments_pb2.RefundOrderRequest(out_trade_no=order.out_trade_no, amount="3.00")
    )
    assert balance(collector, jun) == 500
    headers, body = wechatpay.notification("REFUND.ABNORMAL", {**wechatpay.refunds[refund.out_refund_no],
                                                               "refund_status": "ABNORMAL"})  # fmt: skip
    assert gateway_http.post("/notify/wechatpay", content=body, headers=headers).status_code == 200
    assert balance(collector, jun) == 800  # back in the wallet, and refundable again
    assert (
        admin.payments.GetOrder(
            payments_pb2.GetOrderRequest(out_trade_no=order.out_trade_no)
        ).refunded.minor_units
        == 0
    )


def test_reconciliation_finds_each_kind_of_mismatch_and_resolves_them_audited(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn, gateway_http: httpx.Client
) -> None:
    kai = renter(collector, "kai")
    amounts = (("ok", "1.00"), ("lost", "2.00"), ("short", "3.00"), ("ghost", "4.00"))
    ok, lost, short, ghost = (top_up_order(admin, kai, "alipay", amount, key=key) for key, amount in amounts)
    for order in (ok, short, ghost):
        alipay.pay(order.out_trade_no)
        form = alipay.notification(order.out_trade_no)
        assert gateway_http.post("/notify/alipay", data=form).text == "success"
    alipay.pay(lost.out_trade_no)  # paid, its notification lost (and no query job yet)
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    trade = {o.out_trade_no: alipay.trades[o.out_trade_no]["trade_no"] for o in (ok, lost, short)}
    alipay.statement_csv = alipay.statement(
        [
            (trade[ok.out_trade_no], ok.out_trade_no, "交易", "1.00", ""),
            (trade[lost.out_trade_no], lost.out_trade_no, "交易", "2.00", ""),
            (trade[short.out_trade_no], short.out_trade_no, "交易", "2.99", ""),
        ]
    )  # fmt: skip  (the ghost order, credited, is missing from the statement)
    report = admin.payments.Reconcile(payments_pb2.ReconcileRequest(gateway="alipay", date=today.isoformat()))
    kinds = sorted((m.kind, m.reference) for m in report.mismatches)
    assert report.matched == 1 and kinds == sorted([
        ("paid_not_credited", lost.out_trade_no), ("amount_differs", short.out_trade_no),
        ("credited_not_paid", ghost.out_trade_no)])  # fmt: skip
    offline = admin.payments.Reconcile(payments_pb2.ReconcileRequest(
        gateway="alipay", date=today.isoformat(), statement=alipay.statement_csv.encode("gbk")))  # fmt: skip
    assert sorted(m.id for m in offline.mismatches) == sorted(m.id for m in report.mismatches)  # kept once
    missing = next(m for m in report.mismatches if m.kind == "paid_not_credited")
    resolved = admin.payments.ResolveMismatch(payments_pb2.ResolveMismatchRequest(
        id=missing.id, action="credit", note="paid at Alipay, notification lost"))  # fmt: skip
    assert resolved.resolved and resolved.resolved_by
    assert balance(collector, kai) == 1000  # 1 + 2 + 3 + 4: the lost payment credited once
    with pytest.raises(grpc.RpcError):  # resolved already
        admin.payments.ResolveMismatch(
            payments_pb2.ResolveMismatchRequest(id=missing.id, action="accept", note="x")
        )
    left = admin.payments.ListMismatches(payments_pb2.ListMismatchesRequest()).mismatches
    assert sorted(m.kind for m in left) == ["amount_differs", "credited_not_paid"]
    from protos.rentmeter.v1 import audit_pb2

    actions = [e.action for e in admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest()).entries]
    assert "payments:resolve-credit" in actions and "PaymentService/ResolveMismatch" in actions
    assert date.fromisoformat(missing.date) == today


def test_a_credit_note_on_an_invoice_paid_by_alipay_is_refunded_through_it(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn, gateway_http: httpx.Client
) -> None:
    import billing
    from collector.accounts.wallets import account_balance, check_ledger
    from protos.rentmeter.v1 import invoices_pb2
    from tests.collector.test_payments import invoice_for

    plan = billing.simple_document("p", "CNY", {"standard": "36.00"})  # 1 fen a second
    invoice = invoice_for(collector.database, "lee", seconds=300, document=plan)
    order = admin.payments.CreateOrder(payments_pb2.CreateOrderRequest(
        renter="lee", gateway="alipay", method="page", invoice_id=invoice.id))  # fmt: skip
    assert order.amount.minor_units == 300 and order.pay_url.startswith(alipay.url + "?")
    alipay.trades[order.out_trade_no] = {"out_trade_no": order.out_trade_no, "total_amount": "3.00"}
    alipay.pay(order.out_trade_no)  # paid on Alipay's page
    assert gateway_http.post("/notify/alipay", data=alipay.notification(order.out_trade_no)).text == "success"
    assert admin.invoices.GetInvoice(invoices_pb2.GetInvoiceRequest(invoice_id=invoice.id)).HasField(
        "paid_at"
    )
    note = admin.invoices.CreditInvoice(invoices_pb2.CreditInvoiceRequest(
        invoice_id=invoice.id, amount="1.00", reason="an hour down"))  # fmt: skip
    assert alipay.refunds[-1]["refund_amount"] == "1.00"
    db = collector.database
    assert db.call(account_balance, "receivable:lee", "CNY") == 0  # credited, then paid out
    assert db.call(account_balance, "cash", "CNY") == 200 and db.call(check_ledger).balanced
    assert note.credit_note_id


def test_wechatpay_trade_bill_is_downloaded_and_matched(
    collector: Collector, admin: AdminClient, wechatpay: WeChatPayStandIn
) -> None:
    from zoneinfo import ZoneInfo

    lin = renter(collector, "lin")
    order = top_up_order(admin, lin, "wechatpay", "6.60")
    transaction = wechatpay.pay(order.out_trade_no)
    run_query_job(collector, timedelta(minutes=1))
    wechatpay.bill_csv = wechatpay.bill([
        (transaction, order.out_trade_no, "SUCCESS", "6.60", "", "0.00"),
        ("4200stranger", "RMTstranger0000000000000001", "SUCCESS", "1.00", "", "0.00"),
    ])  # fmt: skip
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    report = admin.payments.Reconcile(payments_pb2.ReconcileRequest(gateway="wechatpay", date=today))
    assert report.matched == 1
    assert [(m.kind, m.reference, m.gateway_amount.minor_units) for m in report.mismatches] == [
        ("paid_not_credited", "RMTstranger0000000000000001", 100)]  # fmt: skip
    with pytest.raises(grpc.RpcError) as refused:  # not ours: nothing to credit
        admin.payments.ResolveMismatch(payments_pb2.ResolveMismatchRequest(
            id=report.mismatches[0].id, action="credit", note="?"))  # fmt: skip
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert any(r.startswith("GET /v3/bill/tradebill?bill_date=") for r in wechatpay.requests)


def test_a_refund_without_an_answer_is_finished_by_the_query_job(
    collector: Collector, admin: AdminClient, wechatpay: WeChatPayStandIn, alipay: AlipayStandIn
) -> None:
    """WeChat Pay answers PROCESSING and its refund notification is lost; Alipay's answer is lost (the
    refund stays pending rather than failed: it may have been made). The query job asks both."""
    mai = renter(collector, "mai")
    order = top_up_order(admin, mai, "wechatpay", "5.00")
    wechatpay.pay(order.out_trade_no)
    run_query_job(collector, timedelta(minutes=1))
    refund = admin.payments.RefundOrder(payments_pb2.RefundOrderRequest(out_trade_no=order.out_trade_no))
    assert refund.state == "pending" and balance(collector, mai) == 0
    wechatpay.refunds[refund.out_refund_no]["status"] = "SUCCESS"
    run_query_job(collector, timedelta(minutes=2))
    states = collector.database.call(lambda db: {r.out_refund_no: r.state for r in db.query(GatewayRefund)})
    assert states == {refund.out_refund_no: "succeeded"} and balance(collector, mai) == 0
    assert state(admin, order.out_trade_no) == "refunded"
    paid = top_up_order(admin, mai, "alipay", "2.00", key="a")
    alipay.pay(paid.out_trade_no)
    run_query_job(collector, timedelta(minutes=3))
    alipay.garbled.add("alipay.trade.refund")  # made at Alipay, its answer lost
    lost = admin.payments.RefundOrder(
        payments_pb2.RefundOrderRequest(out_trade_no=paid.out_trade_no, amount="0.50")
    )
    assert lost.state == "pending" and balance(collector, mai) == 150
    run_query_job(collector, timedelta(minutes=4))
    assert balance(collector, mai) == 150  # not reversed: Alipay says it was made
    rows = collector.database.call(lambda db: {r.out_refund_no: r.state for r in db.query(GatewayRefund)})
    assert rows[lost.out_refund_no] == "succeeded"
