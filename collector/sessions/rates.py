"""What an hour of a session costs from a moment on, as its plan prices it (no traffic): the current rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy.orm import object_session

import billing
from collector.db.models import RentalSession
from collector.sessions.packs import after_own_use
from collector.sessions.plans import versions_of
from collector.sessions.rating import rental_terms


def current_rate(rental: RentalSession, now: datetime, *, with_packs: bool = True) -> Fraction:
    """What an hour of the session costs from `now` on, as the plan would price it (per hour, major
    units); the renter's time packs (less what the session used of them) pay what they cover unless
    `with_packs` is False."""
    terms = rental_terms(rental)
    db = object_session(rental)
    packs = after_own_use(db, rental, terms.packs) if with_packs and db is not None and terms.packs else ()
    return hourly_rate(versions_of(rental.plan), replace(terms, packs=packs), now)


def hourly_rate(versions: list[billing.PricePlan], terms: billing.RentalTerms, now: datetime) -> Fraction:
    """What an hour from `now` on costs under the plan's `versions` and `terms`, without traffic (major
    units); 0 when the plan cannot price it."""
    try:
        charges = billing.quote(versions, terms, now, now + timedelta(hours=1))
    except billing.BillingError:
        return Fraction(0)
    usage = [c for c in charges if c.pieces and c.amount]  # usage lines; caps and discounts apply to sessions
    return sum((Fraction(c.amount) for c in usage), Fraction(0))
