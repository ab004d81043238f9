"""Periodic payment through Alipay and WeChat Pay: the collection job's part for renters on billing
cycles who pay neither from a wallet nor by card (CNY invoices, a gateway configured).

At each step of the dunning schedule (collection.DUNNING) an unpaid invoice is taken under the renter's
signed agreement where there is one (Alipay agreement pay, WeChat Pay entrusted deduction; an order of
method `agreement`, its out-trade number one per invoice and attempt); otherwise, or when the gateway
refuses, a payment request goes out by e-mail and webhook with a link to the portal (`/pay/<invoice id>`),
which makes a fresh QR order when opened (never an expiring QR code in the e-mail). Nothing is taken while
an order of the invoice is open (a deduction under way, a QR code being paid), nor once it is paid; a
deduction whose answer is lost stays open for the query job to settle.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.core.errors import FailedPrecondition
from collector.db.database import Database
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import GatewayOrder, Invoice, Payment, Renter
from collector.delivery.outbox import enqueue_email, enqueue_webhook
from collector.payments.collection import COLLECTION_JOB, DUNNING
from collector.payments.gateways.agreements import active_agreement, agreement_gateways
from collector.payments.gateways.base import (
    AGREEMENT,
    CURRENCY,
    PAID,
    AgreementGateway,
    Gateway,
    GatewayError,
    GatewayUnreachable,
)
from collector.payments.gateways.orders import (
    CREATED,
    OrderAsk,
    apply_trade,
    order_request,
    prepare_order,
    store_pay_url,
)

logger = logging.getLogger(__name__)

REQUEST = "request"  # the provider name of a payment request kept in `payments`
PAY_PATH = "/pay/{invoice_id}"
# What a deduction came to.
TAKEN, UNDER_WAY, REFUSED = "taken", "under way", "refused"


@dataclass(frozen=True)
class DueInvoice:
    invoice_id: str
    renter_id: str
    gateway: str = ""  # the agreement's, if the renter signed one
    agreement_no: str = ""


@dataclass(frozen=True)
class Deduction:
    outcome: str  # TAKEN, UNDER_WAY, REFUSED
    out_trade_no: str = ""
    error: str = ""


def pay_link(portal_url: str, invoice_id: str) -> str:
    return portal_url.rstrip("/") + PAY_PATH.format(invoice_id=invoice_id)


def due(db: Session, gateways: list[str], with_agreements: list[str], now: datetime) -> list[DueInvoice]:
    """Unpaid CNY invoices of renters on billing cycles without a card, their dunning step due, none of
    their orders open."""
    if not gateways:
        return []
    query = (
        select(Invoice)
        .join(Renter, Renter.id == Invoice.renter_id)
        .where(Invoice.paid_at.is_(None), Invoice.total_minor > 0, Invoice.currency == CURRENCY,
               Invoice.collection_attempts < len(DUNNING), Renter.prepaid.is_(False),
               Renter.payment_method == "")
        .order_by(Invoice.issued_at)
    )  # fmt: skip
    found = []
    for invoice in db.scalars(query):
        if (invoice.next_collection_at or invoice.issued_at) > now or _order_open(db, invoice.id, now):
            continue
        agreement = active_agreement(db, invoice.renter_id, with_agreements)
        if agreement is None:
            found.append(DueInvoice(invoice.id, invoice.renter_id))
        else:
            found.append(DueInvoice(invoice.id, invoice.renter_id, agreement.gateway, agreement.agreement_no))
    return found


def _order_open(db: Session, invoice_id: str, now: datetime) -> bool:
    return db.scalar(select(GatewayOrder.id).where(
        GatewayOrder.invoice_id == invoice_id, GatewayOrder.state == CREATED,
        GatewayOrder.expires_at > now).limit(1)) is not None  # fmt: skip


async def deduct(database: Database, gateway: AgreementGateway, invoice: DueInvoice, now: datetime,
                 ttl: timedelta) -> Deduction:  # fmt: skip
    """Take the invoice under the agreement: a new order (the next attempt), the gateway asked outside
    any transaction, a payment applied once."""
    ask = OrderAsk(invoice.gateway, AGREEMENT, invoice.renter_id, None, invoice_id=invoice.invoice_id)
    try:
        order, new = await database.run(prepare_order, ask, now, ttl)
    except FailedPrecondition as exc:  # paid meanwhile, or too many attempts
        return Deduction(REFUSED, "", str(exc))
    if not new:
        return Deduction(UNDER_WAY, order.out_trade_no)
    loop = asyncio.get_running_loop()
    try:
        trade = await loop.run_in_executor(None, gateway.deduct, order_request(order), invoice.agreement_no)
    except GatewayUnreachable as exc:  # it may have been taken: the query job asks
        logger.warning("deduction %s: %s", order.out_trade_no, exc)
        return Deduction(UNDER_WAY, order.out_trade_no)
    except GatewayError as exc:
        await database.run(store_pay_url, order.out_trade_no, None, now)
        return Deduction(REFUSED, order.out_trade_no, str(exc))
    await database.run(store_pay_url, order.out_trade_no, "", now)
    if trade.state == PAID:
        await database.run(apply_trade, invoice.gateway, trade, now)
        return Deduction(TAKEN, order.out_trade_no)
    return Deduction(UNDER_WAY, order.out_trade_no)


def record(db: Session, invoice_id: str, deduction: Deduction | None, portal_url: str, now: datetime) -> None:
    """The attempt on the dunning schedule: nothing more once taken; a deduction under way waits for the
    next step; a refused one, or none, sends a payment request."""
    invoice = db.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None or invoice.paid_at is not None:
        return
    invoice.collection_attempts += 1
    attempts = invoice.collection_attempts
    invoice.next_collection_at = invoice.issued_at + DUNNING[attempts] if attempts < len(DUNNING) else None
    if deduction is not None and deduction.outcome == UNDER_WAY:
        return
    if deduction is not None:
        order = db.scalar(select(GatewayOrder).where(GatewayOrder.out_trade_no == deduction.out_trade_no))
        _attempt(
            db, invoice, order.gateway if order else REQUEST, deduction.out_trade_no, deduction.error, now
        )
        enqueue_webhook(db, "payment.failed", {
            "invoice_id": invoice.id, "number": invoice.number, "renter": invoice.renter_id,
            "attempt": attempts,
            "error": deduction.error, "overdue": attempts >= len(DUNNING),
            "next_attempt_at": invoice.next_collection_at.isoformat() if invoice.next_collection_at else None,
        }, now)  # fmt: skip
    request_payment(db, invoice, portal_url, now)


def request_payment(db: Session, invoice: Invoice, portal_url: str, now: datetime) -> None:
    """A `payment.requested` webhook and an e-mail (when the renter has an address) with the portal link."""
    link = pay_link(portal_url, invoice.id)
    amount = f"{invoice.total_minor // 100}.{invoice.total_minor % 100:02d} {invoice.currency}"
    key = f"request-{invoice.id}-attempt-{invoice.collection_attempts}"
    _attempt(db, invoice, REQUEST, key, "awaiting payment: requested by e-mail and webhook", now, link)
    enqueue_webhook(db, "payment.requested", {
        "invoice_id": invoice.id, "number": invoice.number, "renter": invoice.renter_id, "amount": amount,
        "attempt": invoice.collection_attempts, "link": link}, now)  # fmt: skip
    renter = db.get(Renter, invoice.renter_id)
    if renter is not None and renter.email:
        text = (f"Invoice {invoice.number} of {amount} is due.\n"
                f"Pay it with Alipay or WeChat Pay here: {link}\n\n"
                f"账单 {invoice.number}（{amount}）待支付。请通过支付宝或微信支付付款：{link}\n")  # fmt: skip  # noqa: RUF001
        subject = f"Payment request: invoice {invoice.number}"
        enqueue_email(db, "payment.requested", renter.email, subject, text, now, invoice.id)


def _attempt(db: Session, invoice: Invoice, provider: str, key: str, error: str, now: datetime,
             reference: str = "") -> None:  # fmt: skip
    db.add(Payment(invoice_id=invoice.id, renter_id=invoice.renter_id, provider=provider,
                   amount_minor=invoice.total_minor, currency=invoice.currency, succeeded=False,
                   reference=reference, idempotency_key=key, error=error, created_at=now))  # fmt: skip


async def collect_by_gateways(database: Database, gateways: Mapping[str, Gateway], portal_url: str,
                              now: datetime, ttl: timedelta) -> JobOutcome:  # fmt: skip
    """This job's part for Alipay and WeChat Pay; one invoice's trouble never stops the others'."""
    signed = agreement_gateways(gateways)
    found = await database.run(due, sorted(gateways), signed, now)
    outcome = JobOutcome(COLLECTION_JOB)
    for invoice in found:
        deduction = None
        if invoice.gateway:
            gateway: AgreementGateway = gateways[invoice.gateway]  # type: ignore[assignment]
            deduction = await deduct_safely(database, gateway, invoice, now, ttl)
        done = await database.run(_record_isolated, invoice, deduction, portal_url, now)
        outcome.add(done)
        outcome.produced += 1
    return outcome


async def deduct_safely(database: Database, gateway: AgreementGateway, invoice: DueInvoice, now: datetime,
                        ttl: timedelta) -> Deduction:  # fmt: skip
    """One deduction; an unexpected error (the SDK's, the database's) is logged and the invoice left for a
    later step of the schedule, never the end of the other invoices' collection. Whatever order it made
    stays open for the query job to settle (it may have been taken)."""
    try:
        return await deduct(database, gateway, invoice, now, ttl)
    except Exception:  # a loop boundary: the next invoice is collected anyway
        error_id = secrets.token_hex(6)
        logger.exception("invoice %s: deduction through %s failed (error id %s)", invoice.invoice_id,
                         invoice.gateway, error_id)  # fmt: skip
        return Deduction(UNDER_WAY, "", f"unexpected error (error id {error_id})")


def _record_isolated(db: Session, invoice: DueInvoice, deduction: Deduction | None, portal_url: str,
                     now: datetime) -> JobOutcome:  # fmt: skip
    run = JobRun(db, COLLECTION_JOB, now)
    run.each(
        f"invoice {invoice.invoice_id}", lambda: record(db, invoice.invoice_id, deduction, portal_url, now)
    )
    return run.outcome
