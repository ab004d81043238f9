"""Refunds through the gateway an order was paid with, partial or whole.

The money leaves the ledger when the refund is asked for (a top-up's wallet is debited, an invoice's
credited receivable is paid out), so it cannot be spent or refunded twice meanwhile; a refund the gateway
fails is reversed on the ledger. Alipay answers at once; WeChat Pay may answer PROCESSING and say the end
in a refund notification (applied like a payment's, once)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import billing
from billing import ledger
from collector.accounts.wallets import post, wallet_state
from collector.core.errors import FailedPrecondition, InvalidArgument
from collector.db.database import Database
from collector.db.models import CreditNote, GatewayOrder, GatewayRefund
from collector.payments.gateways.base import (
    REFUND_FAILED,
    REFUND_PENDING,
    Gateway,
    GatewayError,
    GatewayUnreachable,
    Refund,
    RefundRequest,
)
from collector.payments.gateways.checkout import gateway_of
from collector.payments.gateways.orders import ORDER_PAID, REFUNDED, get_order
from collector.payments.providers import TOP_UP

logger = logging.getLogger(__name__)

APPLIED, ALREADY, NOT_OURS = "applied", "already", "not ours"


@dataclass(frozen=True)
class RefundAsk:
    gateway: str
    request: RefundRequest


def _transaction(order: GatewayOrder, amount_minor: int, out_refund_no: str) -> ledger.Transaction:
    money = billing.Money(amount_minor, order.currency)
    if order.purpose == TOP_UP:
        return ledger.refund(order.renter_id, money, out_refund_no)
    return ledger.payout(order.renter_id, money, out_refund_no)


def prepare_refund(
    db: Session, out_trade_no: str, amount_minor: int | None, reason: str, now: datetime,
    credit_note_id: str | None = None,
) -> RefundAsk:  # fmt: skip
    """Reserve a refund of `amount_minor` (None: all that is left) of a paid order and post it."""
    order = get_order(db, out_trade_no, lock=True)
    if order.state not in (ORDER_PAID, REFUNDED):
        raise FailedPrecondition(f"order {out_trade_no} is {order.state}, not paid: nothing to refund")
    left = order.amount_minor - order.refunded_minor
    minor = left if amount_minor is None else amount_minor
    if not 0 < minor <= left:
        raise FailedPrecondition(f"order {out_trade_no} has {billing.Money(left, order.currency)} left to "
                                 f"refund, not {billing.Money(minor, order.currency)}")  # fmt: skip
    count = db.scalar(select(func.count()).where(GatewayRefund.order_id == order.id)) or 0
    out_refund_no = f"{order.out_trade_no}R{count + 1:02d}"
    db.add(GatewayRefund(out_refund_no=out_refund_no, order_id=order.id, amount_minor=minor,
                         state=REFUND_PENDING, reason=reason[:500], credit_note_id=credit_note_id,
                         created_at=now))  # fmt: skip
    order.refunded_minor += minor
    if order.refunded_minor == order.amount_minor:
        order.state = REFUNDED
    post(db, _transaction(order, minor, out_refund_no), f"refund:{out_refund_no}", now)
    return RefundAsk(order.gateway, RefundRequest(order.out_trade_no, out_refund_no, minor,
                                                  order.amount_minor,
                                                   reason[:80]))  # fmt: skip


def apply_refund(db: Session, refund: Refund, now: datetime) -> str:
    """The gateway's word on a refund, once: succeeded ends it; failed gives the money back to the order
    and reverses the ledger's refund."""
    row = db.scalar(select(GatewayRefund).where(GatewayRefund.out_refund_no == refund.out_refund_no)
                    .with_for_update())  # fmt: skip
    if row is None:
        logger.warning("a refund %s that is not ours", refund.out_refund_no)
        return NOT_OURS
    if row.state != REFUND_PENDING or refund.state == REFUND_PENDING:
        if refund.refund_id and not row.refund_id:
            row.refund_id = refund.refund_id
        return ALREADY
    row.state, row.finished_at, row.refund_id = refund.state, now, refund.refund_id or row.refund_id
    if refund.state == REFUND_FAILED:
        order = db.get(GatewayOrder, row.order_id, with_for_update=True)
        assert order is not None, "a refund's order is kept"
        order.refunded_minor -= row.amount_minor
        order.state = ORDER_PAID
        undo = ledger.reversal(_transaction(order, row.amount_minor, row.out_refund_no))
        post(db, undo, f"refund-reversal:{row.out_refund_no}", now)
        logger.warning("refund %s of order %s failed at %s: reversed", row.out_refund_no, order.out_trade_no,
                       order.gateway)  # fmt: skip
    return APPLIED


async def refund_order(
    database: Database, gateways: Mapping[str, Gateway], out_trade_no: str, amount_minor: int | None,
    reason: str, now: datetime, credit_note_id: str | None = None,
) -> GatewayRefund:  # fmt: skip
    """Refund (part of) a paid order through its gateway; FailedPrecondition with the gateway's sentence
    when it refuses (then nothing is refunded)."""
    ask = await database.run(prepare_refund, out_trade_no, amount_minor, reason, now, credit_note_id)
    gateway = gateway_of(gateways, ask.gateway)
    loop = asyncio.get_running_loop()
    try:
        answer = await loop.run_in_executor(None, gateway.refund, ask.request)
    except GatewayUnreachable as exc:  # it may have been made: the query job asks until it knows
        logger.warning("refund %s: %s; left pending", ask.request.out_refund_no, exc)
        return await database.run(_refund_row, ask.request.out_refund_no)
    except GatewayError as exc:
        await database.run(apply_refund, Refund(ask.request.out_refund_no, REFUND_FAILED), now)
        raise FailedPrecondition(str(exc)) from None
    await database.run(apply_refund, answer, now)
    return await database.run(_refund_row, ask.request.out_refund_no)


def pending_refunds(db: Session, now: datetime, older_than: timedelta) -> list[tuple[str, str, str]]:
    """(gateway, out-trade number, out-refund number) of refunds still pending after `older_than`."""
    query = (select(GatewayOrder.gateway, GatewayOrder.out_trade_no, GatewayRefund.out_refund_no)
             .join(GatewayOrder, GatewayOrder.id == GatewayRefund.order_id)
             .where(GatewayRefund.state == REFUND_PENDING, GatewayRefund.created_at <= now - older_than)
             .order_by(GatewayRefund.created_at).limit(200))  # fmt: skip
    return [(gateway, trade, refund) for gateway, trade, refund in db.execute(query)]


def _refund_row(db: Session, out_refund_no: str) -> GatewayRefund:
    row = db.scalar(select(GatewayRefund).where(GatewayRefund.out_refund_no == out_refund_no))
    assert row is not None
    return row


def refundable_top_ups(db: Session, renter_id: str, amount_minor: int) -> list[tuple[str, int]]:
    """(out-trade number, amount) of the renter's paid top-up orders that refund `amount_minor`, newest
    first; FailedPrecondition when the wallet or its gateway top-ups hold less."""
    available = wallet_state(db, renter_id, "CNY").available_minor
    if amount_minor > available:
        raise FailedPrecondition(
            f"the wallet of {renter_id} has {billing.Money(available, 'CNY')} to withdraw"
        )
    orders = db.scalars(select(GatewayOrder).where(
        GatewayOrder.renter_id == renter_id, GatewayOrder.purpose == TOP_UP, GatewayOrder.state == ORDER_PAID
    ).order_by(GatewayOrder.paid_at.desc(), GatewayOrder.id.desc()))  # fmt: skip
    plan, left = [], amount_minor
    for order in orders:
        part = min(left, order.amount_minor - order.refunded_minor)
        if part > 0:
            plan.append((order.out_trade_no, part))
            left -= part
        if not left:
            return plan
    raise FailedPrecondition(f"the gateway top-ups of {renter_id} have less than "
                             f"{billing.Money(amount_minor, 'CNY')} left to refund")  # fmt: skip


async def withdraw(
    database: Database, gateways: Mapping[str, Gateway], renter_id: str, amount_minor: int, reason: str,
    now: datetime,
) -> list[GatewayRefund]:  # fmt: skip
    """Pay a wallet's money back through the top-ups it came from (newest first, partial refunds)."""
    if amount_minor <= 0:
        raise InvalidArgument("a withdrawal must be positive")
    plan = await database.run(refundable_top_ups, renter_id, amount_minor)
    return [await refund_order(database, gateways, no, part, reason, now) for no, part in plan]


def paid_order_of_invoice(db: Session, credit_note_id: str) -> tuple[str, int] | None:
    """(out-trade number, amount to refund) for a credit note on an invoice paid through a gateway."""
    note = db.get(CreditNote, credit_note_id)
    if note is None:
        return None
    order = db.scalar(select(GatewayOrder).where(GatewayOrder.invoice_id == note.invoice_id,
                                                 GatewayOrder.state.in_((ORDER_PAID, REFUNDED))))  # fmt: skip
    if order is None:
        return None
    return order.out_trade_no, min(note.amount_minor, order.amount_minor - order.refunded_minor)


async def refund_credit_note(
    database: Database, gateways: Mapping[str, Gateway], credit_note_id: str, now: datetime
) -> GatewayRefund | None:
    """Refund a credit note's amount through the gateway its invoice was paid with (None: not paid so)."""
    found = await database.run(paid_order_of_invoice, credit_note_id)
    if found is None or found[1] <= 0:
        return None
    out_trade_no, minor = found
    return await refund_order(database, gateways, out_trade_no, minor, f"credit note {credit_note_id}", now,
                              credit_note_id)  # fmt: skip
