"""Prepaid renters: holds when a session starts, what the wallet can still pay, alerts and the stop at zero.

Spendable = the wallet's balance (holds included: they are the renter's money set aside for the running
sessions) minus what the renter's sessions have cost beyond their final invoices (the live estimate).
Below each configured level the running sessions' machines get a LOW_BALANCE control once; at zero the
session runs `balance_grace` longer, then it is stopped (SESSION_STOPPED to the agent, which applies the
host's action) and its hold released.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import billing
from billing import ledger
from billing.forecast import describe
from collector.accounts.renters import session_ended
from collector.accounts.wallets import post, wallet_state
from collector.core.clock import to_us
from collector.core.errors import FailedPrecondition
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import InvoiceLine, RentalSession, Renter
from collector.delivery.outbox import enqueue_email, enqueue_webhook
from collector.sessions.forecast import burn_rate, forecast
from collector.sessions.packs import WARN_BEFORE, pack_time, warn_once
from collector.sessions.plans import versions_of
from collector.sessions.rates import current_rate as current_rate
from collector.sessions.rates import hourly_rate as hourly_rate
from collector.sessions.rating import out_of_range_names, rate_sessions, rental_terms

logger = logging.getLogger(__name__)

BALANCES_JOB = "enforce-balances"
STOPPED = "stopped"
LOW_BALANCE = "low_balance"


@dataclass(frozen=True)
class BalanceEvent:
    """Something the session's machine must be told: a low balance, or that the session was stopped."""

    kind: str
    rental: RentalSession
    message: str


def estimated_minor(
    rental: RentalSession, now: datetime, covered_until_us: int | None, rate: Fraction | None = None
) -> int:
    """The session's cost so far, never below what will be billed: the rated cost plus the time since the
    machine's last report at the current rate (rounded up; `rate`: the current rate when known), as if it
    all will be covered."""
    end = now if rental.ended_at is None else min(now, rental.ended_at)
    last = max(covered_until_us or 0, to_us(rental.started_at))
    tail_us = max(0, to_us(end) - last)
    if not tail_us:
        return rental.cost_minor
    rate = current_rate(rental, now) if rate is None else rate
    tail = rate * tail_us / (3600 * 10**6) * 10 ** billing.money.exponent(rental.plan.currency)
    return rental.cost_minor + int(-(-tail // 1))


def spendable_minor(
    db: Session, renter_id: str, currency: str, now: datetime | None = None, rates: RateCache | None = None
) -> int:
    """The renter's wallet balance minus the not yet invoiced cost of its sessions in `currency`. With
    `now`, running sessions count at their live estimate (the rated cost plus the time since their last
    report at the current rate): what the renter sees, and what the stop at zero is decided on. `rates`:
    current rates already worked out in this pass."""
    renter = db.get_one(Renter, renter_id)
    sessions = [
        rental
        for rental in db.scalars(
            select(RentalSession).where(
                RentalSession.renter_id == renter_id,
                or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > renter.invoiced_until),
            )
        )
        if rental.plan.currency == currency
    ]
    invoiced = invoiced_by_session(db, [rental.id for rental in sessions])
    owed = 0
    for rental in sessions:
        cost = rental.cost_minor
        if now is not None and rental.ended_at is None:
            rate = rates.of(rental, now) if rates is not None else None
            cost = estimated_minor(rental, now, rental.machine.last_report_end_us, rate)
        owed += cost - invoiced.get(rental.id, 0)
    return wallet_state(db, renter_id, currency).balance_minor - owed


def invoiced_by_session(db: Session, session_ids: list[str]) -> dict[str, int]:
    """What final invoices charged each session so far (one query, by ix_invoice_lines_session_id)."""
    if not session_ids:
        return {}
    query = (
        select(InvoiceLine.session_id, func.sum(InvoiceLine.amount_minor))
        .where(InvoiceLine.session_id.in_(session_ids))
        .group_by(InvoiceLine.session_id)
    )
    return {session_id: int(total or 0) for session_id, total in db.execute(query)}


def burn_rate_minor(
    db: Session, renter_id: str, currency: str, now: datetime, rates: RateCache | None = None
) -> Fraction:
    """What the renter's running sessions in `currency` cost per hour from `now` on, in minor units."""
    running = db.scalars(
        select(RentalSession).where(RentalSession.renter_id == renter_id, RentalSession.ended_at.is_(None))
    )
    rate_of = rates.of if rates is not None else current_rate
    per_hour = sum((rate_of(r, now) for r in running if r.plan.currency == currency), Fraction(0))
    return per_hour * 10 ** billing.money.exponent(currency)


class RateCache:
    """One pass's figures, each worked out once: current rates per session, and per renter and currency
    what is spendable and how fast it burns. Enforcing N sessions then costs N, not N x the sessions of
    their renters (nothing a pass does changes them: a stop releases a hold, which the balance includes)."""

    def __init__(self, db: Session, now: datetime) -> None:
        self._db, self._now = db, now
        self._rates: dict[str, Fraction] = {}
        self._spendable: dict[tuple[str, str], int] = {}
        self._burn: dict[tuple[str, str], Fraction] = {}

    def of(self, rental: RentalSession, now: datetime) -> Fraction:
        if rental.id not in self._rates:
            self._rates[rental.id] = current_rate(rental, now)
        return self._rates[rental.id]

    def spendable(self, renter_id: str, currency: str) -> int:
        key = (renter_id, currency)
        if key not in self._spendable:
            self._spendable[key] = spendable_minor(self._db, renter_id, currency, self._now, self)
        return self._spendable[key]

    def forget(self, renter_id: str) -> None:
        """A session of the renter stopped: its estimate is now its rated cost."""
        for key in [key for key in self._spendable if key[0] == renter_id]:
            del self._spendable[key]
        for key in [key for key in self._burn if key[0] == renter_id]:
            del self._burn[key]

    def burn(self, renter_id: str, currency: str) -> Fraction:
        key = (renter_id, currency)
        if key not in self._burn:
            self._burn[key] = burn_rate_minor(self._db, renter_id, currency, self._now, self)
        return self._burn[key]


def hold_for_session(db: Session, rental: RentalSession, hold_for: timedelta, now: datetime) -> None:
    """Set aside the expected cost of the session's first `hold_for` (at most what is available); refuse
    to start when the wallet has nothing available."""
    currency = rental.plan.currency
    available = (
        spendable_minor(db, rental.renter_id, currency)
        - wallet_state(db, rental.renter_id, currency).held_minor
    )
    if available <= 0 and _pack_pays(rental, now):
        return  # the renter's time pack pays; the session stops when it and the wallet run out
    if available <= 0:
        raise FailedPrecondition(
            f"the wallet of {rental.renter_id} has {billing.Money(available, currency)} available:"
            " top it up to start a session"
        )
    with out_of_range_names(rental):
        expected = billing.quote(versions_of(rental.plan), rental_terms(rental), now, now + hold_for)
        wanted = billing.invoice_total(billing.build_lines(rental.id, expected), currency).minor
    amount = min(max(wanted, 1), available)
    post(
        db,
        ledger.place_hold(rental.renter_id, billing.Money(amount, currency), rental.id),
        f"hold:{rental.id}",
        now,
    )
    rental.hold_minor = amount


def _pack_pays(rental: RentalSession, now: datetime) -> bool:
    """Whether one of the renter's time packs for the session's plan has time left and is valid now."""
    return any(
        p.valid_from <= now < p.valid_until and (p.left_us is None or p.left_us > 0)
        for p in rental_terms(rental).packs
    )


def release_hold(db: Session, rental: RentalSession, now: datetime) -> None:
    if rental.hold_minor:
        amount = billing.Money(rental.hold_minor, rental.plan.currency)
        post(db, ledger.release_hold(rental.renter_id, amount, rental.id), f"release:{rental.id}", now)
        rental.hold_minor = 0


@dataclass(frozen=True)
class BalanceRun:
    """One pass of enforcement: what machines must be told, how it went, and when the next balance will
    reach zero or the next grace will end (the scheduler checks again then, between its regular runs)."""

    events: list[BalanceEvent]
    outcome: JobOutcome
    next_check: datetime | None


def enforce_balances(db: Session, now: datetime, levels: tuple[Decimal, ...], grace: timedelta) -> BalanceRun:
    """Alerts and stops for the open sessions of prepaid renters, on the live estimate of what they owe
    (the same figure the renter watches); each session on its own (a failure is recorded and retried)."""
    query = (
        select(RentalSession)
        .join(Renter, Renter.id == RentalSession.renter_id)
        .where(RentalSession.ended_at.is_(None), Renter.prepaid.is_(True))
        .order_by(RentalSession.started_at)
    )
    rentals = list(db.scalars(query))
    run = JobRun(db, BALANCES_JOB, now)
    events, checks = [], []
    figures = RateCache(db, now)
    for rental in rentals:
        done = run.each(f"session {rental.id}", partial(_enforce, db, rental, now, levels, grace, figures))
        if done is not None:
            event, check = done
            events += [event] if event is not None else []
            checks += [check] if check is not None else []
    run.settle(f"session {rental.id}" for rental in rentals)
    return BalanceRun(events, run.outcome, min(checks, default=None))


def _enforce(
    db: Session,
    rental: RentalSession,
    now: datetime,
    levels: tuple[Decimal, ...],
    grace: timedelta,
    figures: RateCache,
) -> tuple[BalanceEvent | None, datetime | None]:
    """What one prepaid session's machine must be told now, if anything (announced to the renter too),
    and when to look at it again."""
    currency = rental.plan.currency
    pack_event = _pack_event(db, rental, now, figures)
    if pack_event is not None:
        _announce(db, pack_event, now)
        return pack_event, None
    left = figures.spendable(rental.renter_id, currency)
    shown = billing.Money(left, currency)
    event, check = None, None
    if left > 0:
        rental.exhausted_at = None
        if left >= billing.Money.of(levels[0], currency).minor if levels else True:
            rental.alerted_below_minor = None  # topped up: alert again when it runs low
        level = next((lv for lv in reversed(levels) if left < billing.Money.of(lv, currency).minor), None)
        if level is not None:
            minor = billing.Money.of(level, currency).minor
            if rental.alerted_below_minor is None or minor < rental.alerted_below_minor:
                rental.alerted_below_minor = minor
                forecast_text = _lasts(db, rental, now, left)
                event = BalanceEvent(LOW_BALANCE, rental, f"balance low: {shown} left; {forecast_text}")
        burn = figures.burn(rental.renter_id, currency)
        if burn > 0:
            check = now + timedelta(hours=float(left / burn))
    elif rental.exhausted_at is None:
        rental.exhausted_at = now
        event = BalanceEvent(LOW_BALANCE, rental, f"balance exhausted ({shown}): the session ends in {grace}")
        check = now + grace
    elif now - rental.exhausted_at >= grace:
        _stop(db, rental, now, figures)
        logger.info("session %s stopped: balance of %s exhausted (%s)", rental.id, rental.renter_id, shown)
        event = BalanceEvent(STOPPED, rental, "balance exhausted")
    else:
        check = rental.exhausted_at + grace
    if event is not None:
        _announce(db, event, now)
    return event, check


def _lasts(db: Session, rental: RentalSession, now: datetime, left: int) -> str:
    """The forecast for an alert: "at your current use your balance lasts 37 min"."""
    ahead = forecast(rental, db, now, left, burn_rate(db, rental))
    return describe(None if ahead.lasts is None else ahead.lasts // timedelta(microseconds=1))


def _pack_event(db: Session, rental: RentalSession, now: datetime, figures: RateCache) -> BalanceEvent | None:
    """The session's time packs: stop it when they are used up and the renter chose to stop then (the
    pack's when_used_up); warn its machine once when they pay less than WARN_BEFORE more."""
    terms = rental_terms(rental)
    if not terms.packs:
        return None
    packs = pack_time(db, rental, terms, now)
    if packs.exhausted and packs.stop_when_used_up:
        _stop(db, rental, now, figures)
        logger.info("session %s stopped: time pack used up (%s chose to stop)", rental.id, rental.renter_id)
        return BalanceEvent(STOPPED, rental, "time pack used up")
    if packs.used_any and timedelta(0) < packs.wall_left <= WARN_BEFORE and warn_once(db, rental):
        minutes = -(-packs.wall_left // timedelta(minutes=1))
        return BalanceEvent(LOW_BALANCE, rental, f"time pack low: {minutes} min left")
    return None


def _stop(db: Session, rental: RentalSession, now: datetime, figures: RateCache) -> None:
    rental.ended_at = now
    release_hold(db, rental, now)
    session_ended(db, rental.renter_id, now)
    figures.forget(rental.renter_id)


def _announce(db: Session, event: BalanceEvent, now: datetime) -> None:
    rental = event.rental
    name = "session.stopped" if event.kind == STOPPED else "balance.low"
    body = {"session_id": rental.id, "renter": rental.renter_id, "agent_id": rental.agent_id,
            "message": event.message}  # fmt: skip
    enqueue_webhook(db, name, body, now)
    renter = db.get(Renter, rental.renter_id)
    if renter is not None and renter.email:
        subject = "Your session was stopped" if event.kind == STOPPED else "Your balance is low"
        enqueue_email(db, name, renter.email, subject, f"Session {rental.id}: {event.message}.", now)


def rate_and_enforce(db: Session, now: datetime, levels: tuple[Decimal, ...], grace: timedelta) -> BalanceRun:
    """The rating job: rate every session, then apply prepaid balances; the outcome covers both."""
    rating = rate_sessions(db, now)
    enforced = enforce_balances(db, now, levels, grace)
    rating.add(enforced.outcome)
    return BalanceRun(enforced.events, rating, enforced.next_check)
