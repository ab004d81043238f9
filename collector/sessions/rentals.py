"""Rental sessions: one renter renting one machine under one price plan, from start to stop."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from collector.accounts.renters import get_or_create_renter, session_ended
from collector.core.errors import FailedPrecondition, NotFound
from collector.db.models import Machine, RentalSession
from collector.sessions import checkpoints
from collector.sessions.balances import hold_for_session, release_hold
from collector.sessions.plans import get_plan, versions_of
from collector.sessions.price_locks import lock_at_start
from collector.sessions.rating import machine_profile

logger = logging.getLogger(__name__)

# A prepaid renter's session starts with this much of its expected cost held in the wallet.
DEFAULT_HOLD = timedelta(minutes=15)


def get_machine(db: Session, agent_id: str) -> Machine:
    machine = db.get(Machine, agent_id)
    if machine is None:
        raise NotFound("machine", agent_id)
    return machine


def start_session(
    db: Session,
    *,
    agent_id: str,
    renter_id: str,
    plan_name: str,
    now: datetime,
    terms: billing.RentalTerms | None = None,
    hold_for: timedelta = DEFAULT_HOLD,
) -> RentalSession:
    """Open a session; the renter account is created on its first rental.

    The machine's class is the one `terms` names, else the plan's hardware class matched from the
    machine's facts, else the class the machine was enrolled with. The terms must be billable under the
    plan version in force now (a price for the class, a known service level, a valid coupon). With
    demand-based prices, the multiplier published for now is locked for the session (price_locks.py).
    """
    terms = terms or billing.RentalTerms(machine_class="")
    machine = db.get(Machine, agent_id, with_for_update=True)
    if machine is None:
        raise NotFound("machine", agent_id)
    if machine.revoked_at is not None:
        raise FailedPrecondition(f"machine {agent_id} was revoked")
    plan = get_plan(db, plan_name)
    versions = versions_of(plan)
    try:
        current = versions[billing.version_at(versions, now)]
        matched = current.class_for(machine_profile(machine.facts or {}))
        machine_class = terms.machine_class or matched or machine.machine_class
        terms = replace(terms, machine_class=machine_class)
        current.check_terms(terms, now)
    except billing.BillingError as exc:
        raise FailedPrecondition(str(exc)) from None
    if open_session_of(db, agent_id) is not None:
        raise FailedPrecondition(f"machine {agent_id} is already rented")
    renter = get_or_create_renter(db, renter_id, now)
    rental = RentalSession(
        id="s-" + secrets.token_hex(8),
        agent_id=agent_id,
        renter_id=renter.id,
        plan_id=plan.id,
        machine_class=terms.machine_class,
        service_level=terms.service_level,
        member_tier=terms.member_tier,
        coupon=terms.coupon,
        resources={name: billing.plain(quantity) for name, quantity in terms.resources.items()},
        started_at=now,
        cost_minor=0,
        covered_us=0,
    )
    lock_at_start(db, rental, current)
    db.add(rental)
    db.flush()
    checkpoints.start(db, rental)
    if renter.prepaid:
        hold_for_session(db, get_session(db, rental.id), hold_for, now)
    logger.info(
        "session %s started: machine %s (class %s), renter %s, plan %s",
        rental.id, agent_id, terms.machine_class, renter_id, plan_name,
    )  # fmt: skip
    return get_session(db, rental.id)


def stop_session(db: Session, session_id: str, now: datetime) -> RentalSession:
    rental = get_session(db, session_id)
    if rental.ended_at is not None:
        raise FailedPrecondition(f"session {session_id} was already stopped at {rental.ended_at.isoformat()}")
    rental.ended_at = now
    release_hold(db, rental, now)
    session_ended(db, rental.renter_id, now)
    logger.info("session %s stopped", session_id)
    return rental


def get_session(db: Session, session_id: str) -> RentalSession:
    rental = db.get(RentalSession, session_id)
    if rental is None:
        raise NotFound("session", session_id)
    return rental


def open_session_of(db: Session, agent_id: str) -> RentalSession | None:
    query = select(RentalSession).where(RentalSession.agent_id == agent_id, RentalSession.ended_at.is_(None))
    return db.scalars(query).first()


def list_sessions(
    db: Session,
    *,
    renter_id: str = "",
    agent_id: str = "",
    open_only: bool = False,
    host_id: str | None = None,
) -> list[RentalSession]:
    """Sessions, oldest first; optionally of one renter, one machine, only open, or on one host's machines."""
    query = select(RentalSession).order_by(RentalSession.started_at)
    if host_id is not None:
        query = query.join(Machine, Machine.agent_id == RentalSession.agent_id).where(
            Machine.host_id == host_id
        )
    if renter_id:
        query = query.where(RentalSession.renter_id == renter_id)
    if agent_id:
        query = query.where(RentalSession.agent_id == agent_id)
    if open_only:
        query = query.where(RentalSession.ended_at.is_(None))
    return list(db.scalars(query))


def revoke_machine(
    db: Session, agent_id: str, reason: str, now: datetime
) -> tuple[Machine, RentalSession | None]:
    """Mark a machine revoked and end its open session now; return both (the session may be None)."""
    machine = db.get(Machine, agent_id, with_for_update=True)
    if machine is None:
        raise NotFound("machine", agent_id)
    if machine.revoked_at is not None:
        raise FailedPrecondition(
            f"machine {agent_id} was already revoked at {machine.revoked_at.isoformat()}"
        )
    machine.revoked_at = now
    rental = open_session_of(db, agent_id)
    if rental is not None:
        stop_session(db, rental.id, now)
    logger.warning("machine %s revoked: %s", agent_id, reason or "no reason given")
    return machine, rental
