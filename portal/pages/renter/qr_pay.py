"""Paying by Alipay (支付宝) or WeChat Pay (微信支付): a gateway order (PaymentService.CreateOrder) for a
wallet top-up (/wallet, wallet.py) or an unpaid invoice (/invoices/{invoice_id}, my_invoices.py), paid by
scanning its QR code (a computer) or by opening its link in the app (a phone); both are shown on the
order's page, /wallet/orders/{out_trade_no}. That page asks for /wallet/orders/{out_trade_no}/state every
2 s (htmx; without JavaScript a refresh link) until the gateway's notification arrived through the portal's
/notify endpoints: then it says what the wallet holds now. Closed and expired orders say so. Another
renter's order is the collector's NOT_FOUND: a 404. The forms are offered only for the gateways the
collector has configured (PaymentService.ListGateways), in CNY, the one currency they take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.api import Api
from portal.auth import User, requires, user_api
from portal.i18n import N_
from portal.web import render, see_other
from protos.rentmeter.v1 import common_pb2, payments_pb2, wallets_pb2

CURRENCY = "CNY"  # Alipay and WeChat Pay take yuan only
METHOD = "qr"  # the QR code's content is also the link the app opens on a phone
GATEWAYS = {"alipay": N_("Alipay"), "wechatpay": N_("WeChat Pay")}
OPEN_IN = {"alipay": N_("Open in Alipay"), "wechatpay": N_("Open in WeChat")}
WAITING, PAID, EXPIRED, CLOSED, REFUNDED = "created", "paid", "expired", "closed", "refunded"
POLL_FRAGMENT = "renter/_order_state.html"
TOP_UP = "top_up"


@dataclass(frozen=True)
class Gateway:
    name: str
    label: str


async def gateways_offered(api: Api) -> list[Gateway]:
    """The gateways the collector has configured and the portal knows how to name, localized."""
    answer = await api.payments.ListGateways(payments_pb2.ListGatewaysRequest())
    return [Gateway(name, i18n.gettext(GATEWAYS[name])) for name in answer.gateways if name in GATEWAYS]


def order_request(request: Request, user: User, gateway: str, **what: str) -> payments_pb2.CreateOrderRequest:
    """A QR order for the signed-in renter: `amount` and `idempotency_key` (a top-up) or `invoice_id`."""
    client_ip = request.client.host if request.client else ""
    return payments_pb2.CreateOrderRequest(
        renter=user.subject, gateway=gateway, method=METHOD, currency=CURRENCY, client_ip=client_ip, **what
    )


def order_url(order: payments_pb2.GatewayOrder) -> str:
    return f"/wallet/orders/{order.out_trade_no}"


def shown_state(order: payments_pb2.GatewayOrder, now: datetime) -> str:
    """The order's state as the renter reads it: an order still open past its expiry is expired (the
    collector's query job closes it a little later)."""
    if order.state == WAITING and order.HasField("expires_at") and order.expires_at.ToDatetime(UTC) <= now:
        return EXPIRED
    return order.state


async def _order_context(request: Request, user: User) -> dict[str, object]:
    api = user_api(request)
    order = await api.payments.GetOrder(
        payments_pb2.GetOrderRequest(out_trade_no=request.path_params["out_trade_no"])
    )
    state = shown_state(order, datetime.now(UTC))
    balance: common_pb2.Money | None = None
    if state == PAID and order.purpose == TOP_UP:
        wallet = await api.wallets.GetWallet(
            wallets_pb2.GetWalletRequest(renter=user.subject, currency=order.amount.currency)
        )
        balance = wallet.balance
    return {
        "order": order,
        "state": state,
        "balance": balance,
        "gateway_label": i18n.gettext(GATEWAYS.get(order.gateway, order.gateway)),
        "open_in": i18n.gettext(OPEN_IN.get(order.gateway, order.gateway)),
        "url": order_url(order),
    }


@requires("renter")
async def order_page(request: Request, user: User) -> Response:
    return render(request, "renter/order.html", await _order_context(request, user))


@requires("renter")
async def order_state(request: Request, user: User) -> Response:
    """The QR code and the order's state alone, for the page's polling."""
    return render(request, POLL_FRAGMENT, await _order_context(request, user))


async def open_order(request: Request, ask: payments_pb2.CreateOrderRequest) -> Response:
    """CreateOrder, then its page; a refusal (Refused) is the caller's to show on its form."""
    order = await user_api(request).payments.CreateOrder(ask)
    return see_other(order_url(order))


ROUTES = [
    Route("/wallet/orders/{out_trade_no}", order_page, methods=["GET"]),
    Route("/wallet/orders/{out_trade_no}/state", order_state, methods=["GET"]),
]
