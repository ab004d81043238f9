"""Locked demand prices: the published multiplier a session takes when it starts (and, with a lock period,
at each period's start), kept with the session and carried in its terms into the billing engine.

Published steps (table price_steps) are written by the pricing job only before they begin and never
changed, so the multiplier in force at any past moment is settled: a session's locks never move once taken.
A moment without a published step has no demand multiplier (the plan's static prices).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from billing.dynamic import PriceLock, lock_starts, policy_for
from collector.db.models import PriceStep, RentalSession


def published_step(db: Session, plan_id: int, machine_class: str, moment: datetime) -> PriceStep | None:
    """The published step of the plan's class in force at `moment`, if any."""
    query = select(PriceStep).where(
        PriceStep.plan_id == plan_id,
        PriceStep.machine_class == machine_class,
        PriceStep.starts_at <= moment,
        PriceStep.ends_at > moment,
    )
    return db.scalars(query).first()


def published_multiplier(db: Session, plan_id: int, machine_class: str, moment: datetime) -> Decimal | None:
    step = published_step(db, plan_id, machine_class, moment)
    return None if step is None else Decimal(step.multiplier)


def quote_terms(
    db: Session, plan_id: int, versions: list[billing.PricePlan], terms: billing.RentalTerms, start: datetime
) -> billing.RentalTerms:
    """`terms` with the lock a session starting at `start` would take (none without dynamic prices or a
    published step): what a quote prices with, so that it shows the price the session will pay."""
    try:
        version = versions[billing.version_at(versions, start)]
    except billing.NotRated:
        return terms
    if policy_for(version.dynamic, terms.machine_class) is None:
        return terms
    multiplier = published_multiplier(db, plan_id, terms.machine_class, start)
    return replace(terms, demand=() if multiplier is None else (PriceLock(start, multiplier),))


def lock_at_start(db: Session, rental: RentalSession, version: billing.PricePlan) -> None:
    """Store the multiplier in force when `rental` starts, and its lock period, with the session."""
    policy = policy_for(version.dynamic, rental.machine_class)
    if policy is None:
        return
    rental.price_lock_us = policy.lock_us
    multiplier = published_multiplier(db, rental.plan_id, rental.machine_class, rental.started_at)
    rental.price_locks = [[rental.started_at.isoformat(), str(multiplier)]] if multiplier is not None else []


def demand_locks(rental: RentalSession) -> tuple[PriceLock, ...]:
    """The session's locks in the billing domain, oldest first."""
    return locks_from(rental.price_locks)


def locks_from(stored: list[Any] | None) -> tuple[PriceLock, ...]:
    """Locks stored as [[iso time, "1.20"], ...] in the billing domain."""
    return tuple(
        PriceLock(datetime.fromisoformat(since), Decimal(multiplier)) for since, multiplier in stored or []
    )


def extend_locks(db: Session, rental: RentalSession, until: datetime) -> None:
    """With a lock period: take the lock of every period that began by `until` and is not taken yet — the
    step published for its start, else (nothing published then) the lock before it carries on."""
    if rental.price_lock_us is None or rental.price_locks is None:
        return
    end = until if rental.ended_at is None else min(until, rental.ended_at - timedelta(microseconds=1))
    locks = list(rental.price_locks)
    taken = {since for since, _ in locks}
    for moment in lock_starts(rental.started_at, end, rental.price_lock_us)[1:]:
        if moment.isoformat() in taken:
            continue
        multiplier = published_multiplier(db, rental.plan_id, rental.machine_class, moment)
        if multiplier is None and locks:
            multiplier = Decimal(locks[-1][1])
        if multiplier is not None:
            locks.append([moment.isoformat(), str(multiplier)])
    if len(locks) != len(rental.price_locks):
        rental.price_locks = locks
