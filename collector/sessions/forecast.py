"""How fast a session spends the renter's money, and how long the wallet and the time packs last.

The burn rate is what the session really cost per hour lately, from the growth of its rated cost: with E the
end of the machine's latest report inside the session (later time has no usage yet) and W = BURN_WINDOW, or
the reported part of the session when that is shorter, it is (cost up to E - cost up to E - W) x 1 h / W.
"Cost up to t" is the session rated from its start to t with every rule of its plan (time, traffic, GPUs,
windows, caps, minimum charge, discounts, tax, time packs) at full precision, before lines are rounded; so
the burn rate falls to zero under a reached cap or while a pack pays the rental time, and rises with heavy
traffic, where the current rate (the plan's price of the next hour at no traffic) does not. It is worked
out again only when a new report moves E (`known`).

The forecast (billing/forecast.py) projects that mix: while the session's packs still pay its rental time,
the wallet pays only the burn rate (traffic, GPU time, ...); when they end, the burn rate plus the rental
time's price without packs. Without a pack paying now, the wallet pays the faster of the burn rate and the
current rate. What the packs still pay is their time left over the class's burn rate (billing/packs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy.orm import Session

from billing.forecast import lasts_us
from billing.money import exponent
from collector.core.clock import from_us, to_us
from collector.db.models import RentalSession
from collector.sessions.packs import pack_time
from collector.sessions.rates import current_rate
from collector.sessions.rating import rated_usage, rental_terms

BURN_WINDOW = timedelta(minutes=10)
HOUR_US = 3600 * 10**6


@dataclass(frozen=True)
class Burn:
    """The burn rate measured up to `until_us` (E above), per hour in minor units (exact)."""

    until_us: int
    per_hour_minor: Fraction


def burn_rate(db: Session, rental: RentalSession, known: Burn | None = None) -> Burn | None:
    """The session's burn rate (see the module's docstring); None before a report inside the session."""
    start = to_us(rental.started_at)
    until = rental.machine.last_report_end_us
    if until is None:
        return None
    if rental.ended_at is not None:
        until = min(until, to_us(rental.ended_at))
    if until <= start:
        return None
    if known is not None and known.until_us == until:
        return known
    window = min(until - start, BURN_WINDOW // timedelta(microseconds=1))
    growth = exact_cost(db, rental, until) - exact_cost(db, rental, until - window)
    return Burn(until, growth * HOUR_US / window * 10 ** exponent(rental.plan.currency))


def exact_cost(db: Session, rental: RentalSession, until_us: int) -> Fraction:
    """The session's cost from its start up to `until_us`, every charge at full precision."""
    rated = rated_usage(db, rental, from_us(until_us), advance=False)
    assert rated is not None, "rated_usage answers None only when asked to reuse"
    _, charges = rated
    return sum((Fraction(charge.amount) for charge in charges), Fraction(0))


@dataclass(frozen=True)
class Forecast:
    """How long the wallet (`money_minor`) and packs last at the session's current use (None: never), and
    the wall time its packs still pay (None: it uses no pack)."""

    lasts: timedelta | None
    pack_left: timedelta | None


def forecast(
    rental: RentalSession, db: Session, now: datetime, money_minor: int, burn: Burn | None
) -> Forecast:
    """The forecast of the module's docstring for one running session."""
    scale = 10 ** exponent(rental.plan.currency)
    rate = current_rate(rental, now) * scale
    terms = rental_terms(rental)
    packs = pack_time(db, rental, terms, now) if terms.packs else None
    measured = burn.per_hour_minor if burn is not None else rate
    plain = current_rate(rental, now, with_packs=False) * scale if packs is not None else rate
    paying = packs is not None and packs.wall_left > timedelta(0) and rate < plain
    if paying and packs is not None:
        wall_us = packs.wall_left // timedelta(microseconds=1)
        micros = lasts_us(money_minor, measured, wall_us, measured + plain)
    else:
        micros = lasts_us(money_minor, Fraction(0), 0, max(measured, rate))
    lasts = None if micros is None else timedelta(microseconds=micros)
    return Forecast(lasts, packs.wall_left if packs is not None else None)
