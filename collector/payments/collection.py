"""Collecting invoices that are not paid from a wallet.

Renters with a card on file (payment_method "stripe") are charged when their invoice is issued, and after a
failure again per DUNNING (1, 3 and 7 days after the invoice); after the last failure the invoice is
overdue (a `payment.failed` notification each time). Renters paying by bank transfer are marked paid by
the provider with the transfer's reference. A successful payment posts cash against the renter's
receivable on the ledger.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from billing import ledger
from collector.accounts.wallets import post
from collector.core.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.db.database import Database
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import Invoice, Payment, Renter
from collector.delivery.outbox import enqueue_webhook
from collector.payments.providers import ChargeRequest, ChargeResult, PaymentProvider

logger = logging.getLogger(__name__)

# When the n-th attempt is made, after the invoice was issued.
COLLECTION_JOB = "collect-payments"
DUNNING = (timedelta(0), timedelta(days=1), timedelta(days=3), timedelta(days=7))


def mark_paid(
    db: Session, invoice_id: str, reference: str, now: datetime, provider: str = "manual"
) -> Invoice:
    """Record a payment received outside rentmeter (e.g. a bank transfer with `reference`)."""
    reference = reference.strip()
    if not reference or len(reference) > 200:
        raise InvalidArgument("reference is required (1 to 200 characters), e.g. the bank transfer's")
    invoice = db.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    renter = db.get(Renter, invoice.renter_id)
    if renter is not None and renter.prepaid:
        raise FailedPrecondition(f"invoice {invoice.number} was paid from the wallet of {invoice.renter_id}")
    if invoice.paid_at is not None:
        raise FailedPrecondition(
            f"invoice {invoice.number} was already paid at {invoice.paid_at.isoformat()}"
        )
    _paid(db, invoice, provider, reference, f"{provider}:{invoice.id}", now)
    return invoice


def due(db: Session, now: datetime) -> list[tuple[str, ChargeRequest]]:
    """(provider, request) for each unpaid invoice of a renter with a payment method, its attempt due."""
    query = (
        select(Invoice, Renter)
        .join(Renter, Renter.id == Invoice.renter_id)
        .where(
            Invoice.paid_at.is_(None),
            Invoice.total_minor > 0,
            Invoice.collection_attempts < len(DUNNING),
            Renter.prepaid.is_(False),
            Renter.payment_method != "",
        )
        .order_by(Invoice.issued_at)
    )
    found = []
    for invoice, renter in db.execute(query):
        if (invoice.next_collection_at or invoice.issued_at) > now:
            continue
        found.append(
            (
                renter.payment_method,
                ChargeRequest(
                    reference=invoice.id,
                    description=f"Invoice {invoice.number}",
                    amount=billing.Money(invoice.total_minor, invoice.currency),
                    customer=renter.payment_customer,
                    source=renter.payment_source,
                    idempotency_key=f"invoice-{invoice.id}-attempt-{invoice.collection_attempts + 1}",
                ),
            )
        )
    return found


def record(db: Session, outcomes: list[tuple[str, ChargeRequest, ChargeResult]], now: datetime) -> JobOutcome:
    """Store each attempt, each invoice on its own; a success pays the invoice, a failure schedules the
    next attempt."""
    run = JobRun(db, COLLECTION_JOB, now)
    for provider, request, result in outcomes:
        subject = f"invoice {request.reference}"
        run.each(subject, partial(_record, db, provider, request, result, now))
        if not result.succeeded:
            run.outcome.failed.append(subject)
    return run.outcome


def _record(db: Session, provider: str, request: ChargeRequest, result: ChargeResult, now: datetime) -> None:
    invoice = db.get(Invoice, request.reference, with_for_update=True)
    if invoice is None or invoice.paid_at is not None:
        return
    invoice.collection_attempts += 1
    if result.succeeded:
        _paid(db, invoice, provider, result.reference, request.idempotency_key, now)
        return
    _attempt(db, invoice, provider, result, request.idempotency_key, now)
    attempts = invoice.collection_attempts
    invoice.next_collection_at = invoice.issued_at + DUNNING[attempts] if attempts < len(DUNNING) else None
    logger.warning("invoice %s: payment attempt %d failed: %s", invoice.number, attempts, result.error)
    enqueue_webhook(
        db,
        "payment.failed",
        {
            "invoice_id": invoice.id,
            "number": invoice.number,
            "renter": invoice.renter_id,
            "attempt": attempts,
            "error": result.error,
            "overdue": attempts >= len(DUNNING),
            "next_attempt_at": invoice.next_collection_at.isoformat() if invoice.next_collection_at else None,
        },
        now,
    )


def collect(
    requests: list[tuple[str, ChargeRequest]], providers: Mapping[str, PaymentProvider]
) -> list[tuple[str, ChargeRequest, ChargeResult]]:
    """Charge each request through its provider (outside any transaction)."""
    outcomes = []
    for name, request in requests:
        provider = providers.get(name)
        if provider is None:
            result = ChargeResult(False, "", f"payment provider {name!r} is not configured")
        else:
            result = charge_safely(provider, request)
        outcomes.append((name, request, result))
    return outcomes


def charge_safely(provider: PaymentProvider, request: ChargeRequest) -> ChargeResult:
    """One charge; a provider's unexpected exception is a failed attempt (retried by dunning), not the end
    of the other invoices' collection."""
    try:
        return provider.charge(request)
    except Exception:  # a loop boundary: the next invoice is charged anyway
        error_id = secrets.token_hex(6)
        logger.exception("%s %s: charging through %s failed (error id %s)", request.purpose,
                         request.reference, provider.name, error_id)  # fmt: skip
        return ChargeResult(False, "", f"unexpected error (error id {error_id})")


def _attempt(
    db: Session, invoice: Invoice, provider: str, result: ChargeResult, key: str, now: datetime
) -> None:
    """Keep one attempt to take the invoice's total, whatever its outcome."""
    db.add(
        Payment(invoice_id=invoice.id, renter_id=invoice.renter_id, provider=provider,
                amount_minor=invoice.total_minor, currency=invoice.currency, succeeded=result.succeeded,
                reference=result.reference, idempotency_key=key, error=result.error, created_at=now)
    )  # fmt: skip


def _paid(db: Session, invoice: Invoice, provider: str, reference: str, key: str, now: datetime) -> None:
    amount = billing.Money(invoice.total_minor, invoice.currency)
    _attempt(db, invoice, provider, ChargeResult(True, reference), key, now)
    if amount.minor > 0:
        post(db, ledger.payment(invoice.renter_id, amount, invoice.id), f"payment:{invoice.id}", now)
    invoice.paid_at = now
    invoice.next_collection_at = None
    logger.info("invoice %s paid: %s via %s (%s)", invoice.number, amount, provider, reference)
    enqueue_webhook(
        db,
        "invoice.paid",
        {"invoice_id": invoice.id, "number": invoice.number, "provider": provider, "reference": reference},
        now,
    )


async def collect_due(
    database: Database, providers: Mapping[str, PaymentProvider], now: datetime
) -> JobOutcome:
    """The collection job: charge the invoices due for collection (outside any transaction) and record
    the outcomes; the outcome's `produced` is how many were attempted."""
    requests = await database.run(due, now)
    if not requests:
        return JobOutcome(COLLECTION_JOB)
    loop = asyncio.get_running_loop()
    outcomes = await loop.run_in_executor(None, collect, requests, providers)
    outcome = await database.run(record, outcomes, now)
    outcome.produced = len(outcomes)
    return outcome
