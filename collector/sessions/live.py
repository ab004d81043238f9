"""A session's cost as it happens: what the renter sees while renting.

The burn rate is what the session really cost per hour lately, from the growth of its rated cost: with E the
end of the machine's latest report inside the session (later time has no usage yet) and W = BURN_WINDOW, or
the reported part of the session when that is shorter, it is (cost up to E - cost up to E - W) x 1 h / W.
"Cost up to t" is the session rated from its start to t with every rule of its plan (time, traffic, GPUs,
windows, caps, minimum charge, discounts, tax) at full precision, before lines are rounded; so the burn rate
falls to zero under a reached cap and rises with heavy traffic, where rate_per_hour (the plan's price of the
next hour at no traffic) does not. It is worked out again only when a new report moves E (`known`).

The machine's latest live tick (collector/sessions/live_ticks.py), if it is newer than its reports, adds
what it shows (its traffic, CPU, GPU and energy at the plan's prices) to the estimate, as `provisional_minor`;
the wallet's balance shown counts it too. Nothing else does: the rated cost, the burn rate, the stored cost
and the balance checks come from signed reports only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy.orm import Session

import billing
from billing.money import exponent, round_half_up, to_decimal
from collector.core.clock import from_us, to_us
from collector.core.errors import FailedPrecondition
from collector.db.models import RentalSession, Renter
from collector.sessions.balances import current_rate, estimated_minor, spendable_minor
from collector.sessions.live_ticks import LiveTicks, provisional_minor
from collector.sessions.rating import SessionOutOfRange, rate_session, rated_usage
from collector.sessions.rentals import get_session

BURN_WINDOW = timedelta(minutes=10)
HOUR_US = 3600 * 10**6


@dataclass(frozen=True)
class Burn:
    """The burn rate measured up to `until_us` (E above), per hour in minor units (exact)."""

    until_us: int
    per_hour_minor: Fraction


@dataclass(frozen=True)
class LiveCost:
    rental: RentalSession
    at: datetime
    estimated_minor: int
    rate_per_hour_minor: int
    prepaid: bool
    spendable_minor: int  # prepaid: what the wallet can still pay after the estimated cost
    time_left: timedelta | None  # prepaid, at the current rate; None when nothing is charged per hour
    burn: Burn | None = None  # None before the machine reported inside the session
    runs_out_at: datetime | None = None  # prepaid: at the faster of burn and current rate; None: never
    provisional_minor: int = 0  # the part of estimated_minor from a live tick (shown, not billed)

    @property
    def burn_rate_minor(self) -> int:
        return round_half_up(self.burn.per_hour_minor) if self.burn is not None else 0


def live_cost(
    db: Session, session_id: str, now: datetime, known: Burn | None = None, ticks: LiveTicks | None = None
) -> LiveCost:
    """Rate the session now and say what it costs, at what rate, how fast it burns money and how long
    the wallet lasts. `known`: the burn rate measured before, kept while no new report arrived; `ticks`:
    the machines' live ticks, the session machine's latest of which is shown on top of its reports."""
    rental = get_session(db, session_id)
    try:
        rate_session(db, rental, now)
        burn = burn_rate(db, rental, known)
    except SessionOutOfRange:
        raise  # names the session already
    except billing.BillingError as exc:
        raise FailedPrecondition(f"session {session_id} cannot be rated: {exc}") from None
    currency = rental.plan.currency
    tick = ticks.latest(rental.agent_id, rental.id) if ticks is not None else None
    provisional = provisional_minor(rental, tick, now)
    estimated = estimated_minor(rental, now, rental.machine.last_report_end_us) + provisional
    rate = current_rate(rental, now) if rental.ended_at is None else Fraction(0)
    rate_minor = billing.round_to_minor(to_decimal(rate), currency)
    renter = db.get(Renter, rental.renter_id)
    prepaid = bool(renter and renter.prepaid)
    left = spendable_minor(db, rental.renter_id, currency, now) - provisional if prepaid else 0
    time_left, runs_out_at = None, None
    per_hour_minor = rate * 10 ** exponent(currency)
    if prepaid and rate > 0:
        time_left = timedelta(seconds=int(max(left, 0) * 3600 / per_hour_minor))
    fastest = max(per_hour_minor, burn.per_hour_minor if burn is not None else Fraction(0))
    if prepaid and rental.ended_at is None and (left <= 0 or fastest > 0):
        runs_out_at = now + timedelta(seconds=float(max(left, 0) * 3600 / fastest)) if left > 0 else now
    return LiveCost(
        rental, now, estimated, rate_minor, prepaid, left, time_left, burn, runs_out_at, provisional
    )


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
