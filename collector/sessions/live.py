"""A session's cost as it happens: what the renter sees while renting.

The burn rate, the time the session's packs still pay and the forecast of how long the wallet lasts are
collector/sessions/forecast.py's.

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
from collector.core.errors import FailedPrecondition
from collector.db.models import RentalSession, Renter
from collector.sessions.balances import estimated_minor, spendable_minor
from collector.sessions.forecast import BURN_WINDOW, Burn, burn_rate, forecast
from collector.sessions.live_ticks import LiveTicks, provisional_minor
from collector.sessions.rates import current_rate
from collector.sessions.rating import SessionOutOfRange, rate_session
from collector.sessions.rentals import get_session

__all__ = ["BURN_WINDOW", "Burn", "LiveCost", "burn_rate", "live_cost"]


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
    runs_out_at: datetime | None = None  # prepaid: when the forecast says the wallet runs out; None: never
    provisional_minor: int = 0  # the part of estimated_minor from a live tick (shown, not billed)
    lasts: timedelta | None = None  # prepaid: the forecast (how long the wallet and packs last)
    pack_left: timedelta | None = None  # the wall time the session's packs still pay; None: no pack

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
    time_left = None
    per_hour_minor = rate * 10 ** exponent(currency)
    if prepaid and rate > 0:
        time_left = timedelta(seconds=int(max(left, 0) * 3600 / per_hour_minor))
    ahead = forecast(rental, db, now, left, burn) if rental.ended_at is None else None
    lasts = ahead.lasts if ahead is not None and prepaid else None
    if prepaid and ahead is not None and left <= 0:
        lasts = timedelta(0)
    runs_out_at = now + lasts if lasts is not None else None
    pack_left = ahead.pack_left if ahead is not None else None
    return LiveCost(
        rental, now, estimated, rate_minor, prepaid, left, time_left, burn, runs_out_at, provisional, lasts,
        pack_left,
    )  # fmt: skip
