"""The payment attempts kept in `payments`: invoices collected, transfers recorded, wallet top-ups charged
(those have no invoice), each with its outcome; the failed ones are the dunning view."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import Invoice, Payment

# Lists answer at most this many, newest first: filters narrow them.
MAX_LISTED = 1000


def list_payments(
    db: Session, *, invoice_id: str = "", renter_id: str = "", failed_only: bool = False
) -> list[tuple[Payment, str | None]]:
    """(attempt, its invoice's number or None) of one invoice and/or one renter ("": any), newest first
    (at most MAX_LISTED); `failed_only`: only attempts that failed."""
    query = (
        select(Payment, Invoice.number)
        .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(MAX_LISTED)
    )
    if invoice_id:
        query = query.where(Payment.invoice_id == invoice_id)
    if renter_id:
        query = query.where(Payment.renter_id == renter_id)
    if failed_only:
        query = query.where(Payment.succeeded.is_(False))
    return [(payment, number) for payment, number in db.execute(query)]
