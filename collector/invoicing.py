"""Closing invoices: each renter's time is cut into back-to-back billing periods, each invoiced once.

A renter's `invoiced_until` marks where its next period starts. Periods end on boundaries aligned to the
Unix epoch in UTC (a one-day period ends at UTC midnight). The scheduled job closes periods that ended at
least `grace` ago, leaving late reports time to arrive; "invoice now" closes the current period early.
Everything for one renter happens in one transaction that also advances `invoiced_until`, so running the
job twice never makes a second invoice for a period.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import billing
from collector.db.models import Invoice, InvoiceLine, RentalSession, Renter
from collector.rating import rate_window
from collector.timeutil import EPOCH

logger = logging.getLogger(__name__)


def next_boundary(moment: datetime, period: timedelta) -> datetime:
    """The first period boundary strictly after `moment`."""
    elapsed = (moment - EPOCH) // period
    return EPOCH + (elapsed + 1) * period


def close_invoices(
    db: Session,
    now: datetime,
    *,
    period: timedelta,
    grace: timedelta,
    renter_id: str = "",
    invoice_now: bool = False,
    until: datetime | None = None,
) -> list[Invoice]:
    """Invoice every finished period of every renter (or only `renter_id`) up to `until` (default: now);
    return the new invoices, issued at `now`."""
    query = select(Renter).order_by(Renter.id).with_for_update()
    if renter_id:
        query = query.where(Renter.id == renter_id)
    until = until or now
    cutoff = until if invoice_now else until - grace
    created: list[Invoice] = []
    for renter in db.scalars(query):
        created.extend(_close_renter(db, renter, cutoff, period, invoice_now, now))
    return created


def _close_renter(
    db: Session, renter: Renter, cutoff: datetime, period: timedelta, invoice_now: bool, now: datetime
) -> list[Invoice]:
    sessions = list(
        db.scalars(
            select(RentalSession).where(
                RentalSession.renter_id == renter.id,
                RentalSession.started_at < cutoff,
                or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > renter.invoiced_until),
            )
        )
    )
    created = []
    while True:
        start = renter.invoiced_until
        end = next_boundary(start, period)
        if end > cutoff:
            if not invoice_now or cutoff <= start:
                break
            end = cutoff
        in_period = [s for s in sessions if s.started_at < end and (s.ended_at is None or s.ended_at > start)]
        if not in_period:
            # Skip empty periods in one step, up to the boundary before the next session starts.
            upcoming = [s.started_at for s in sessions if s.started_at >= end]
            target = min(upcoming) if upcoming else cutoff
            end = max(end, next_boundary(target, period) - period)
            if invoice_now and not upcoming:
                end = cutoff
        else:
            created.extend(_invoice_period(db, renter, in_period, start, end, now))
        renter.invoiced_until = end
    return created


def _invoice_period(
    db: Session, renter: Renter, sessions: list[RentalSession], start: datetime, end: datetime, now: datetime
) -> list[Invoice]:
    """One invoice per currency for the sessions' usage in [start, end); none when no session overlaps."""
    lines_by_currency: dict[str, list[billing.InvoiceLine]] = defaultdict(list)
    for rental in sorted(sessions, key=lambda s: s.started_at):
        _, lines = rate_window(db, rental, start, end)
        lines_by_currency[rental.plan.currency].extend(lines)
    invoices = []
    for currency, lines in lines_by_currency.items():
        invoice = Invoice(
            id="inv-" + secrets.token_hex(8),
            renter_id=renter.id,
            currency=currency,
            period_start=start,
            period_end=end,
            issued_at=now,
            total_minor=billing.invoice_total(lines, currency).minor,
            lines=[_line_row(position, line) for position, line in enumerate(lines)],
        )
        db.add(invoice)
        invoices.append(invoice)
        logger.info(
            "invoice %s for renter %s, %s to %s: %s",
            invoice.id,
            renter.id,
            start.isoformat(),
            end.isoformat(),
            billing.Money(invoice.total_minor, currency),
        )
    db.flush()
    return invoices


def _line_row(position: int, line: billing.InvoiceLine) -> InvoiceLine:
    return InvoiceLine(
        position=position,
        session_id=line.reference,
        meter=line.meter,
        description=line.description,
        quantity=format(line.quantity.normalize(), "f"),
        unit=line.unit,
        rate=format(line.rate, "f"),
        rate_unit=line.rate_unit,
        amount_minor=line.amount.minor,
    )


def get_invoice(db: Session, invoice_id: str) -> Invoice | None:
    return db.get(Invoice, invoice_id)


def list_invoices(db: Session, renter_id: str = "") -> list[Invoice]:
    query = select(Invoice).order_by(Invoice.period_start, Invoice.id)
    if renter_id:
        query = query.where(Invoice.renter_id == renter_id)
    return list(db.scalars(query))
