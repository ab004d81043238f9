"""A gateway's statement is of a China day (Asia/Shanghai): an order paid at 23:59:59 Beijing time on D and
notified at 00:00:02 on D+1 belongs to D's statement: matched on D, and no mismatch on D+1."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from collector.payments.gateways.notifications import apply_notification
from collector.server import Collector
from protos.rentmeter.v1 import payments_pb2
from rentmeter.client import AdminClient
from tests.collector.gateways.agreement_standins import AgreementAlipayStandIn, AgreementWeChatPayStandIn
from tests.collector.gateways.helpers import balance, renter, top_up_order

CHINA = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 30)
PAID = datetime.combine(DAY, time(23, 59, 59), CHINA)
NOTIFIED = PAID + timedelta(seconds=3)  # 00:00:02 on the next day


def notify(collector: Collector, gateway: str, headers: dict[str, str], body: bytes, now: datetime) -> int:
    reply = asyncio.run(
        apply_notification(collector.database, collector.gateways, gateway, headers, body, now)
    )
    return reply.status


@pytest.mark.parametrize("gateway", ["alipay", "wechatpay"])
def test_a_payment_just_before_midnight_notified_after_it_is_matched_on_its_day(
    collector: Collector, admin: AdminClient, alipay: AgreementAlipayStandIn,
    wechatpay: AgreementWeChatPayStandIn, gateway: str,
) -> None:  # fmt: skip
    tao = renter(collector, "tao")
    order = top_up_order(admin, tao, gateway, "9.90")
    no = order.out_trade_no
    statement: dict[str, Any]
    if gateway == "alipay":
        trade_no = alipay.pay(no)
        alipay.trades[no]["gmt_payment"] = PAID.strftime("%Y-%m-%d %H:%M:%S")
        form = alipay.notification(no)
        body = urlencode(form).encode()
        assert notify(collector, gateway, {}, body, NOTIFIED) == 200
        text = alipay.statement([(trade_no, no, "交易", "9.90", "")])
        statement = {"day": text.encode("gbk"), "next": alipay.statement([]).encode("gbk")}
    else:
        trade_no = wechatpay.pay(no)
        wechatpay.trades[no]["success_time"] = PAID.isoformat()
        headers, body = wechatpay.paid_notification(no, timestamp=int(NOTIFIED.timestamp()))
        assert notify(collector, gateway, headers, body, NOTIFIED) == 200
        statement = {"day": wechatpay.bill([(trade_no, no, "SUCCESS", "9.90", "", "0.00")]).encode(),
                     "next": wechatpay.bill([]).encode()}  # fmt: skip
    assert balance(collector, tao) == 990
    on_day = admin.payments.Reconcile(payments_pb2.ReconcileRequest(
        gateway=gateway, date=DAY.isoformat(), statement=statement["day"]))  # fmt: skip
    assert (on_day.matched, list(on_day.mismatches)) == (1, [])
    after = (DAY + timedelta(days=1)).isoformat()
    next_day = admin.payments.Reconcile(payments_pb2.ReconcileRequest(
        gateway=gateway, date=after, statement=statement["next"]))  # fmt: skip
    assert (next_day.matched, list(next_day.mismatches)) == (0, [])
    runs = admin.payments.ListReconciliations(payments_pb2.ListReconciliationsRequest()).runs
    assert sorted((r.date, r.matched, r.mismatches) for r in runs) == [
        ("2026-11-30", 1, 0),
        ("2026-12-01", 0, 0),
    ]


def test_without_the_gateways_time_the_day_is_when_we_learnt_of_it(
    collector: Collector, admin: AdminClient, alipay: AgreementAlipayStandIn
) -> None:
    """A payment credited without the gateway's time (here: a notification without gmt_payment) counts on
    the day it was learnt: the statement of D+1 lacking it is reported."""
    uma = renter(collector, "uma")
    no = top_up_order(admin, uma, "alipay", "1.00").out_trade_no
    alipay.pay(no)
    body = urlencode(alipay.notification(no)).encode()
    assert notify(collector, "alipay", {}, body, NOTIFIED) == 200
    report = admin.payments.Reconcile(payments_pb2.ReconcileRequest(
        gateway="alipay", date="2026-12-01", statement=alipay.statement([]).encode("gbk")))  # fmt: skip
    assert [(m.kind, m.reference) for m in report.mismatches] == [("credited_not_paid", no)]
