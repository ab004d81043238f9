"""Rating sessions: usage from the database, prices from the billing engine."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import billing
from collector.db.models import RentalSession, Renter
from collector.plans import to_domain
from collector.timeutil import to_us
from collector.usage import UsageSummary, usage_summary

logger = logging.getLogger(__name__)


def rate_window(
    db: Session, rental: RentalSession, start: datetime, end: datetime
) -> tuple[UsageSummary, list[billing.InvoiceLine]]:
    """Usage and rounded invoice lines of `rental` over [start, end), clipped to the session's span."""
    start = max(start, rental.started_at)
    if rental.ended_at is not None:
        end = min(end, rental.ended_at)
    summary = usage_summary(db, rental.agent_id, to_us(start), max(to_us(end), to_us(start)))
    charges = billing.rate_usage(summary.billable(), to_domain(rental.plan), rental.machine_class)
    return summary, billing.build_lines(rental.id, charges)


def rate_sessions(db: Session, now: datetime) -> int:
    """Refresh the live cost of every session not yet fully invoiced; return how many were rated.

    The job the scheduler runs every few seconds. Cost is rated from the session start, so it is exactly
    what an invoice for the same span would charge.
    """
    query = (
        select(RentalSession)
        .join(Renter, Renter.id == RentalSession.renter_id)
        .where(or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > Renter.invoiced_until))
    )
    rentals = list(db.scalars(query))
    for rental in rentals:
        summary, lines = rate_window(db, rental, rental.started_at, rental.ended_at or now)
        rental.cost_minor = billing.invoice_total(lines, rental.plan.currency).minor
        rental.covered_us = summary.covered_us
        rental.rated_at = now
    return len(rentals)
