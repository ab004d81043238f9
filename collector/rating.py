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


def cumulative_usage(
    db: Session, rental: RentalSession, until: datetime
) -> tuple[UsageSummary, list[billing.Charge]]:
    """Usage of `rental` from its start to `until` (clipped to its end), and its full-precision charges."""
    end = until if rental.ended_at is None else min(until, rental.ended_at)
    end = max(end, rental.started_at)
    summary = usage_summary(db, rental.agent_id, to_us(rental.started_at), to_us(end))
    return summary, billing.rate_usage(summary.billable(), to_domain(rental.plan), rental.machine_class)


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
        summary, charges = cumulative_usage(db, rental, now)
        rental.cost_minor = billing.invoice_total(
            billing.build_lines(rental.id, charges), rental.plan.currency
        ).minor
        rental.covered_us = summary.covered_us
        rental.rated_at = now
    return len(rentals)
