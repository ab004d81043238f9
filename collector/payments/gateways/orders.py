"""Gateway orders: a top-up or an invoice paid asynchronously (QR code, payment page), and applying what
the gateway says of them exactly once.

Out-trade numbers are made from what is paid (the renter's top-up key, or the invoice) and the attempt: the
same request answers the same open order (the same QR code) and a request after an order closed or expired
makes the next attempt. An order becomes paid once, whoever says so first (the notification or the query
job): the wallet top-up's ledger key is the out-trade number, so it is never credited twice, and a payment
that arrives after the order was closed is still credited (never lost). The amount paid must be the order's.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from collector.accounts.renters import get_renter
from collector.accounts.wallets import check_top_up, scoped_key, top_up
from collector.core.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.db.models import GatewayOrder, Invoice, Payment
from collector.payments.collection import mark_paid
from collector.payments.gateways.base import AGREEMENT, CLOSED, CURRENCY, PAID, OrderRequest, Trade
from collector.payments.providers import INVOICE, TOP_UP

logger = logging.getLogger(__name__)

CREATED, ORDER_PAID, ORDER_CLOSED, EXPIRED, REFUNDED = "created", "paid", "closed", "expired", "refunded"
OPEN = (CREATED,)
MAX_ATTEMPTS = 99
# What applying a trade did.
APPLIED, ALREADY, IGNORED, WRONG_AMOUNT, NOT_OURS = (
    "applied",
    "already",
    "ignored",
    "wrong amount",
    "not ours",
)


def out_trade_no(gateway: str, purpose: str, request_key: str, attempt: int) -> str:
    """RM + T (top-up) or I (invoice) + 20 hex digits of the gateway and request + the attempt: 25
    characters, within both gateways' limits (WeChat Pay: 6 to 32 of [A-Za-z0-9_-|*])."""
    digest = hashlib.sha256(f"{gateway}|{purpose}|{request_key}".encode()).hexdigest()[:20]
    return f"RM{'T' if purpose == TOP_UP else 'I'}{digest}{attempt:02d}"


@dataclass(frozen=True)
class OrderAsk:
    """A request for an order: the gateway and how it is paid, for what."""

    gateway: str
    method: str
    renter_id: str
    amount: billing.Money | None  # a top-up's amount; None for an invoice (its total)
    idempotency_key: str = ""  # a top-up's
    invoice_id: str = ""


def prepare_order(db: Session, ask: OrderAsk, now: datetime, ttl: timedelta) -> tuple[GatewayOrder, bool]:
    """(the order, whether it is new and needs its QR code or link from the gateway). An open or paid
    order of the same request is answered as it is."""
    purpose, request_key, renter_id, amount, invoice_id = _what_is_paid(db, ask)
    latest = db.scalar(
        select(GatewayOrder)
        .where(GatewayOrder.gateway == ask.gateway, GatewayOrder.request_key == request_key)
        .order_by(GatewayOrder.attempt.desc()).limit(1)
    )  # fmt: skip
    if latest is not None and latest.amount_minor != amount.minor:
        used = billing.Money(latest.amount_minor, latest.currency)
        raise InvalidArgument(f"this idempotency key was used for {used}: use a new key")
    if _deduction_under_way(latest, ask, now):
        raise FailedPrecondition(f"a deduction under the renter's agreement is under way at {ask.gateway}; "
                                 "try again in a few minutes")  # fmt: skip
    if latest is not None and (latest.state in (ORDER_PAID, REFUNDED) or
                               (latest.state == CREATED and latest.expires_at > now)):  # fmt: skip
        return latest, False
    attempt = latest.attempt + 1 if latest is not None else 1
    if attempt > MAX_ATTEMPTS:
        raise FailedPrecondition(f"{MAX_ATTEMPTS} payment attempts were made for this; use a new key")
    order = GatewayOrder(
        out_trade_no=out_trade_no(ask.gateway, purpose, request_key, attempt),
        gateway=ask.gateway, method=ask.method,
        purpose=purpose, renter_id=renter_id, invoice_id=invoice_id, request_key=request_key,
        attempt=attempt, amount_minor=amount.minor, currency=amount.currency, state=CREATED, pay_url="",
        created_at=now, expires_at=now + ttl,
    )  # fmt: skip
    db.add(order)
    db.flush()
    logger.info("gateway order %s created: %s %s for %s by %s (%s)", order.out_trade_no, purpose, amount,
                renter_id, ask.gateway, ask.method)  # fmt: skip
    return order, True


def _deduction_under_way(latest: GatewayOrder | None, ask: OrderAsk, now: datetime) -> bool:
    """An agreement's deduction of this is open: a QR order now could be paid twice over."""
    return (latest is not None and latest.state == CREATED and latest.expires_at > now
            and latest.method == AGREEMENT and ask.method != AGREEMENT)  # fmt: skip


def _what_is_paid(db: Session, ask: OrderAsk) -> tuple[str, str, str, billing.Money, str | None]:
    """(purpose, request key, renter, amount, invoice id) of a request, checked."""
    if ask.invoice_id:
        invoice = db.get(Invoice, ask.invoice_id)
        if invoice is None or (ask.renter_id and invoice.renter_id != ask.renter_id):
            raise NotFound("invoice", ask.invoice_id)
        if invoice.paid_at is not None:
            raise FailedPrecondition(f"invoice {invoice.number} is paid already")
        _check_currency(invoice.currency)
        return (
            INVOICE,
            invoice.id,
            invoice.renter_id,
            billing.Money(invoice.total_minor, invoice.currency),
            invoice.id,
        )
    if ask.amount is None or not ask.idempotency_key.strip():
        raise InvalidArgument("a top-up needs an amount and an idempotency key (or name an invoice)")
    renter = get_renter(db, ask.renter_id)
    _check_currency(ask.amount.currency)
    check_top_up(db, renter.id, ask.amount)
    return TOP_UP, scoped_key(renter.id, ask.idempotency_key), renter.id, ask.amount, None


def _check_currency(currency: str) -> None:
    if currency != CURRENCY:
        raise FailedPrecondition(f"Alipay and WeChat Pay take {CURRENCY}, not {currency}")


def order_request(order: GatewayOrder, client_ip: str = "") -> OrderRequest:
    subject = "Wallet top-up" if order.purpose == TOP_UP else f"Invoice {order.invoice_id}"
    return OrderRequest(order.out_trade_no, subject, order.amount_minor, order.method, order.expires_at,
                        client_ip or "127.0.0.1")  # fmt: skip


def store_pay_url(db: Session, out_trade_no: str, pay_url: str | None, now: datetime) -> GatewayOrder:
    """Keep the QR code's content or link; None: the gateway refused the order, which is closed."""
    order = get_order(db, out_trade_no)
    if pay_url is None:
        order.state, order.closed_at = ORDER_CLOSED, now
    else:
        order.pay_url = pay_url
    return order


def get_order(db: Session, out_trade_no: str, *, lock: bool = False) -> GatewayOrder:
    query = select(GatewayOrder).where(GatewayOrder.out_trade_no == out_trade_no)
    order = db.scalar(query.with_for_update() if lock else query)
    if order is None:
        raise NotFound("gateway order", out_trade_no)
    return order


def apply_trade(db: Session, gateway: str, trade: Trade, now: datetime) -> str:
    """Apply what the gateway says of an order, once: paid credits the wallet or pays the invoice; closed
    closes an open order. Returns what it did (APPLIED, ALREADY, IGNORED, WRONG_AMOUNT, NOT_OURS)."""
    query = select(GatewayOrder).where(GatewayOrder.out_trade_no == trade.out_trade_no,
                                       GatewayOrder.gateway == gateway).with_for_update()  # fmt: skip
    order = db.scalar(query)
    if order is None:
        logger.warning("%s says %s of order %s, which is not ours", gateway, trade.state, trade.out_trade_no)
        return NOT_OURS
    order.checked_at = now
    if trade.state == CLOSED and order.state == CREATED:
        order.state, order.closed_at = ORDER_CLOSED, now
        return APPLIED
    if trade.state != PAID:
        return IGNORED
    if order.state in (ORDER_PAID, REFUNDED):
        return ALREADY
    if trade.amount_fen != order.amount_minor:
        logger.error("order %s: %s says %d fen were paid, the order is for %d: not credited",
                     order.out_trade_no, gateway, trade.amount_fen, order.amount_minor)  # fmt: skip
        return WRONG_AMOUNT
    order.state, order.paid_at, order.trade_no = ORDER_PAID, now, trade.trade_no
    order.gateway_paid_at = trade.paid_at
    _credit(db, order, now)
    return APPLIED


def _credit(db: Session, order: GatewayOrder, now: datetime) -> None:
    """The money received: an invoice's payment, or a top-up (also when the invoice was paid otherwise
    meanwhile: the money is then the renter's credit, never lost)."""
    amount = billing.Money(order.amount_minor, order.currency)
    if order.invoice_id:
        try:
            mark_paid(db, order.invoice_id, order.trade_no, now, provider=order.gateway)
            return
        except FailedPrecondition as exc:
            logger.warning("order %s: %s; its %s goes to the wallet of %s", order.out_trade_no, exc, amount,
                           order.renter_id)  # fmt: skip
    top_up(db, order.renter_id, amount, ledger_key(order), now, reference=order.trade_no)
    db.add(
        Payment(invoice_id=None, renter_id=order.renter_id, provider=order.gateway, amount_minor=amount.minor,
                currency=amount.currency, succeeded=True, reference=order.trade_no,
                idempotency_key=order.out_trade_no, error="", created_at=now)
    )  # fmt: skip
    logger.info("renter %s topped up %s by %s (order %s, trade %s)", order.renter_id, amount, order.gateway,
                order.out_trade_no, order.trade_no)  # fmt: skip


def ledger_key(order: GatewayOrder) -> str:
    """top_up()'s idempotency key for the order's money: the out-trade number."""
    return f"gateway:{order.out_trade_no}"


def expire(db: Session, out_trade_no: str, now: datetime) -> None:
    """An order never paid, closed at the gateway after its time."""
    order = get_order(db, out_trade_no, lock=True)
    if order.state == CREATED:
        order.state, order.closed_at, order.checked_at = EXPIRED, now, now


def list_orders(db: Session, *, renter_id: str = "", state: str = "", limit: int = 200) -> list[GatewayOrder]:
    query = select(GatewayOrder).order_by(GatewayOrder.created_at.desc(), GatewayOrder.id.desc()).limit(limit)
    if renter_id:
        query = query.where(GatewayOrder.renter_id == renter_id)
    if state:
        query = query.where(GatewayOrder.state == state)
    return list(db.scalars(query))
