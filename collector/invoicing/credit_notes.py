"""Credit notes: corrections of final invoices, which never change themselves.

A credit note gives back part or all of an invoice's total (never more than what earlier credit notes left),
its tax split in the invoice's proportion per tax. On the ledger it reverses the charge: revenue and tax are
debited, and the renter's wallet (prepaid) or receivable is credited.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import billing
from billing import ledger
from billing.money import round_half_up
from collector.accounts.wallets import post
from collector.core.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.db.models import CreditNote, Invoice, Renter
from collector.delivery.outbox import enqueue_webhook
from collector.invoicing.invoices import next_number

logger = logging.getLogger(__name__)

PREFIX = "CN"


def credit_invoice(
    db: Session, invoice_id: str, amount: billing.Money | None, reason: str, now: datetime
) -> CreditNote:
    """Credit `amount` of an invoice (None: all that is left) for `reason`."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise InvalidArgument("reason is required (1 to 500 characters): it is printed on the credit note")
    invoice = db.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    if amount is not None and amount.currency != invoice.currency:
        raise InvalidArgument(f"invoice {invoice.number} is in {invoice.currency}, not {amount.currency}")
    total = func.coalesce(func.sum(CreditNote.amount_minor), 0)
    left = invoice.total_minor - int(db.scalar(select(total).where(CreditNote.invoice_id == invoice.id)) or 0)
    minor = left if amount is None else amount.minor
    if not 0 < minor <= left:
        currency = invoice.currency
        raise FailedPrecondition(
            f"invoice {invoice.number} has {billing.Money(left, currency)} left to credit,"
            f" not {billing.Money(minor, currency)}"
        )
    taxes: dict[str, int] = {}
    for line in invoice.lines:
        if line.meter.startswith("tax:"):
            name = line.meter.removeprefix("tax:")
            taxes[name] = taxes.get(name, 0) + round_half_up(
                Fraction(minor * line.amount_minor, invoice.total_minor)
            )
    note = CreditNote(
        id="cn-" + secrets.token_hex(8),
        number=next_number(db, PREFIX),
        invoice_id=invoice.id,
        renter_id=invoice.renter_id,
        currency=invoice.currency,
        amount_minor=minor,
        tax_minor=sum(taxes.values()),
        reason=reason,
        issued_at=now,
    )
    db.add(note)
    renter = db.get(Renter, invoice.renter_id)
    money = {name: billing.Money(-part, invoice.currency) for name, part in taxes.items() if part}
    reversal = ledger.invoice_charge(
        invoice.renter_id, note.id, billing.Money(-(minor - note.tax_minor), invoice.currency), money,
        prepaid=bool(renter and renter.prepaid), kind="credit",
    )  # fmt: skip
    post(db, reversal, f"credit:{note.id}", now)
    body = {
        "credit_note": note.number,
        "invoice": invoice.number,
        "renter": invoice.renter_id,
        "amount_minor": minor,
    }
    enqueue_webhook(db, "credit_note.issued", body, now)
    logger.info("credit note %s for invoice %s: %s, %s", note.number, invoice.number,
                billing.Money(minor, invoice.currency), reason)  # fmt: skip
    return note


# Lists answer at most this many, newest first: filters narrow them.
MAX_LISTED = 1000


def list_credit_notes(db: Session, *, invoice_id: str = "", renter_id: str = "") -> list[CreditNote]:
    """Credit notes of one invoice and/or one renter ("": any), newest first (at most MAX_LISTED)."""
    query = (
        select(CreditNote).order_by(CreditNote.issued_at.desc(), CreditNote.number.desc()).limit(MAX_LISTED)
    )
    if invoice_id:
        query = query.where(CreditNote.invoice_id == invoice_id)
    if renter_id:
        query = query.where(CreditNote.renter_id == renter_id)
    return list(db.scalars(query))
