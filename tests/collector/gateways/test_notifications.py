"""QR top-ups paid at the gateways' stand-ins, their notifications POSTed to the portal (no CSRF token, no
cookie) and handed to the collector: credited once; replayed, forged and altered notifications change
nothing. Driven through the real SDKs against the stand-ins."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from datetime import UTC, datetime

import grpc
import httpx
import pytest

from collector.api.payments_servicer import PaymentService
from collector.db.database import Database
from collector.db.models import Invoice
from collector.server import Collector
from protos.rentmeter.v1 import payments_pb2
from rentmeter.client import AdminClient
from tests.collector.gateways.helpers import balance, renter, state, top_up_order
from tests.collector.gateways.standins import AlipayStandIn, WeChatPayStandIn, new_key, rsa2_sign

FORM = {"content-type": "application/x-www-form-urlencoded"}


def post_alipay(http: httpx.Client, form: dict[str, str]) -> httpx.Response:
    return http.post("/notify/alipay", content=urllib.parse.urlencode(form), headers=FORM)


def test_alipay_qr_top_up_is_credited_once(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn, gateway_http: httpx.Client
) -> None:
    alice = renter(collector, "alice")
    order = top_up_order(admin, alice, "alipay")
    assert order.pay_url == f"https://qr.alipay.com/{order.out_trade_no}" and order.state == "created"
    assert order.amount.minor_units == 2000 and len(order.out_trade_no) <= 32
    assert top_up_order(admin, alice, "alipay").out_trade_no == order.out_trade_no  # the same request
    assert top_up_order(admin, alice, "wechatpay").out_trade_no != order.out_trade_no  # elsewhere
    with pytest.raises(grpc.RpcError) as refused:
        top_up_order(admin, alice, "alipay", "30.00")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    alipay.pay(order.out_trade_no)
    answer = post_alipay(gateway_http, alipay.notification(order.out_trade_no))
    assert (answer.status_code, answer.text) == (200, "success")
    assert balance(collector, alice) == 2000 and state(admin, order.out_trade_no) == "paid"
    replayed = post_alipay(gateway_http, alipay.notification(order.out_trade_no))
    assert (replayed.status_code, replayed.text) == (200, "success")
    assert balance(collector, alice) == 2000
    assert alipay.refused == []  # every request of the SDK carried a valid signature


def test_forged_and_altered_alipay_notifications_change_nothing(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn, gateway_http: httpx.Client
) -> None:
    bob = renter(collector, "bob")
    order = top_up_order(admin, bob, "alipay", "5.00")
    alipay.pay(order.out_trade_no)
    altered = alipay.notification(order.out_trade_no, total_amount="5000.00")
    forged = alipay.notification(order.out_trade_no)
    unsigned = {k: v for k, v in forged.items() if k != "sign"}
    forged["sign"] = rsa2_sign(new_key(), "&".join(f"{k}={v}" for k, v in sorted(unsigned.items())
                                                   if k != "sign_type"))  # fmt: skip
    for form in (
        altered,
        forged,
        unsigned,
        {"out_trade_no": order.out_trade_no, "trade_status": "TRADE_SUCCESS"},
    ):
        answer = post_alipay(gateway_http, form)
        assert (answer.status_code, answer.text) == (400, "failure")
    assert gateway_http.post("/notify/alipay", content=b"\xff\xfe", headers=FORM).status_code == 400
    assert balance(collector, bob) == 0 and state(admin, order.out_trade_no) == "created"


def test_wechatpay_native_top_up_is_credited_once(
    collector: Collector, admin: AdminClient, wechatpay: WeChatPayStandIn, gateway_http: httpx.Client
) -> None:
    carol = renter(collector, "carol")
    order = top_up_order(admin, carol, "wechatpay", "12.34")
    assert order.pay_url == f"weixin://wxpay/bizpayurl?pr={order.out_trade_no}"
    wechatpay.pay(order.out_trade_no)
    headers, body = wechatpay.paid_notification(order.out_trade_no)
    answer = gateway_http.post("/notify/wechatpay", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["code"] == "SUCCESS"
    assert balance(collector, carol) == 1234
    again = gateway_http.post("/notify/wechatpay", content=body, headers=headers)  # replayed
    assert again.status_code == 200 and balance(collector, carol) == 1234
    assert wechatpay.refused == []


def test_forged_altered_and_stale_wechatpay_notifications_change_nothing(
    collector: Collector, admin: AdminClient, wechatpay: WeChatPayStandIn, gateway_http: httpx.Client
) -> None:
    dan = renter(collector, "dan")
    order = top_up_order(admin, dan, "wechatpay", "1.00")
    wechatpay.pay(order.out_trade_no)
    headers, body = wechatpay.paid_notification(order.out_trade_no)
    altered = json.loads(body)
    altered["event_type"] = "REFUND.SUCCESS"
    stale_headers, stale_body = wechatpay.paid_notification(order.out_trade_no, int(time.time()) - 3600)
    tampered_resource = json.loads(body)
    tampered_resource["resource"]["ciphertext"] = tampered_resource["resource"]["ciphertext"][::-1]
    signed_text = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n{body.decode()}\n"
    forged_headers = {**headers, "Wechatpay-Signature": rsa2_sign(new_key(), signed_text)}
    unknown_serial = {**forged_headers, "Wechatpay-Serial": "0123456789ABCDEF"}
    attempts = [
        (unknown_serial, body),
        (headers, json.dumps(altered).encode()),
        (stale_headers, stale_body),
        (forged_headers, body),
        (headers, json.dumps(tampered_resource).encode()),
        ({}, body),
    ]
    for sent_headers, sent_body in attempts:
        answer = gateway_http.post("/notify/wechatpay", content=sent_body, headers=sent_headers)
        assert answer.status_code == 400 and answer.json()["code"] == "FAIL"
    assert balance(collector, dan) == 0 and state(admin, order.out_trade_no) == "created"
    assert not [r for r in wechatpay.requests if "/v3/certificates" in r]  # no download made to forget
    genuine = gateway_http.post("/notify/wechatpay", content=body, headers=headers)
    assert genuine.status_code == 200 and balance(collector, dan) == 100


def test_only_the_gateway_token_and_the_admin_hand_over_notifications(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn
) -> None:
    from datetime import UTC, datetime

    from collector.accounts.tokens import create_api_token

    now = datetime.now(UTC)
    renter(collector, "erin")
    for role, subject in (("renter", "erin"), ("host", "h1")):
        token = collector.database.call(create_api_token, role, subject, "t", now)
        client = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
        with pytest.raises(grpc.RpcError) as refused:
            client.payments.ApplyNotification(payments_pb2.Notification(gateway="alipay", body=b"x=1"))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        client.close()
    gateway_token = collector.database.call(create_api_token, "gateway", "", "t", now)
    gateway = AdminClient.connect(f"127.0.0.1:{collector.port}", gateway_token)
    with pytest.raises(grpc.RpcError) as refused:
        gateway.payments.ListOrders(payments_pb2.ListOrdersRequest())
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    reply = gateway.payments.ApplyNotification(payments_pb2.Notification(gateway="alipay", body=b"x=1"))
    assert (reply.http_status, reply.body) == (400, b"failure")
    gateway.close()


def test_a_renter_sees_and_makes_only_its_own_orders(
    collector: Collector, admin: AdminClient, alipay: AlipayStandIn
) -> None:
    from datetime import UTC, datetime

    from collector.accounts.tokens import create_api_token

    renter(collector, "fay")
    renter(collector, "gus")
    order = top_up_order(admin, "fay", "alipay")
    token = collector.database.call(create_api_token, "renter", "gus", "t", datetime.now(UTC))
    gus = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
    with pytest.raises(grpc.RpcError) as hidden:
        gus.payments.GetOrder(payments_pb2.GetOrderRequest(out_trade_no=order.out_trade_no))
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as hidden:
        top_up_order(gus, "fay", "alipay", key="k2")
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    own = top_up_order(gus, "gus", "wechatpay", key="k3")
    listed = gus.payments.ListOrders(payments_pb2.ListOrdersRequest(renter="fay")).orders
    assert [o.out_trade_no for o in listed] == [own.out_trade_no]
    gus.close()


def test_stripe_events_reach_the_collector_through_the_portal(
    collector: Collector, admin: AdminClient, gateway_http: httpx.Client
) -> None:
    from tests.collector.test_payments import _stripe_signature, invoice_for

    invoice = invoice_for(collector.database, "sam")
    secret = collector.settings.stripe_webhook_secret
    event = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_9", "object": "payment_intent", "status": "succeeded",
                                 "metadata": {"invoice_id": invoice.id}}}}  # fmt: skip
    payload = json.dumps(event).encode()
    forged = _stripe_signature("whsec_forged_000000000000", payload, int(time.time()))
    refused = gateway_http.post("/webhooks/stripe", content=payload, headers={"stripe-signature": forged})
    assert refused.status_code == 400
    signed = {"stripe-signature": _stripe_signature(secret, payload, int(time.time()))}
    assert gateway_http.post("/webhooks/stripe", content=payload, headers=signed).status_code == 200
    from protos.rentmeter.v1 import invoices_pb2

    paid = admin.invoices.GetInvoice(invoices_pb2.GetInvoiceRequest(invoice_id=invoice.id))
    assert paid.HasField("paid_at")


def test_without_a_stripe_secret_no_stripe_event_is_believed(database: Database) -> None:
    """An empty secret would let anyone sign: the collector refuses Stripe events outright then."""
    from tests.collector.test_payments import _stripe_signature, invoice_for

    invoice = invoice_for(database, "sam")
    event = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_9", "object": "payment_intent", "status": "succeeded",
                                 "metadata": {"invoice_id": invoice.id}}}}  # fmt: skip
    payload = json.dumps(event).encode()
    signature = _stripe_signature("", payload, int(time.time()))
    signed_with_nothing = payments_pb2.Header(name="stripe-signature", value=signature)
    service = PaymentService(database, lambda: datetime.now(UTC), {})
    request = payments_pb2.Notification(gateway="stripe", headers=[signed_with_nothing], body=payload)
    reply = asyncio.run(service.ApplyNotification(request, None))  # type: ignore[arg-type]  # no context needed
    assert reply.http_status == 404
    assert database.call(lambda db: db.get(Invoice, invoice.id).paid_at) is None


def test_a_renter_learns_which_gateways_are_configured(collector: Collector, database: Database) -> None:
    from collector.accounts.tokens import create_api_token

    token = collector.database.call(create_api_token, "renter", "hal", "t", datetime.now(UTC))
    hal = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
    assert list(hal.payments.ListGateways(payments_pb2.ListGatewaysRequest()).gateways) == [
        "alipay",
        "wechatpay",
    ]
    hal.close()
    none = PaymentService(database, lambda: datetime.now(UTC), {})
    answer = asyncio.run(none.ListGateways(payments_pb2.ListGatewaysRequest(), None))  # type: ignore[arg-type]
    assert list(answer.gateways) == []
