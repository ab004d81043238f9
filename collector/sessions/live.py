"""A session's cost as it happens: what the renter sees while renting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy.orm import Session

import billing
from billing.money import exponent, to_decimal
from collector.core.errors import FailedPrecondition
from collector.db.models import RentalSession, Renter
from collector.sessions.balances import current_rate, estimated_minor, spendable_minor
from collector.sessions.rating import SessionOutOfRange, rate_session
from collector.sessions.rentals import get_session


@dataclass(frozen=True)
class LiveCost:
    rental: RentalSession
    at: datetime
    estimated_minor: int
    rate_per_hour_minor: int
    prepaid: bool
    spendable_minor: int  # prepaid: what the wallet can still pay after the estimated cost
    time_left: timedelta | None  # prepaid, at the current rate; None when nothing is charged per hour


def live_cost(db: Session, session_id: str, now: datetime) -> LiveCost:
    """Rate the session now and say what it costs, at what rate, and how long the wallet lasts."""
    rental = get_session(db, session_id)
    try:
        rate_session(db, rental, now)
    except SessionOutOfRange:
        raise  # names the session already
    except billing.BillingError as exc:
        raise FailedPrecondition(f"session {session_id} cannot be rated: {exc}") from None
    currency = rental.plan.currency
    estimated = estimated_minor(rental, now, rental.machine.last_report_end_us)
    rate = current_rate(rental, now) if rental.ended_at is None else Fraction(0)
    rate_minor = billing.round_to_minor(to_decimal(rate), currency)
    renter = db.get(Renter, rental.renter_id)
    prepaid = bool(renter and renter.prepaid)
    left = spendable_minor(db, rental.renter_id, currency, now) if prepaid else 0
    time_left = None
    if prepaid and rate > 0:
        per_hour_minor = rate * 10 ** exponent(currency)
        time_left = timedelta(seconds=int(max(left, 0) * 3600 / per_hour_minor))
    return LiveCost(rental, now, estimated, rate_minor, prepaid, left, time_left)
