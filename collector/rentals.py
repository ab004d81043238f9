"""Rental sessions: one renter renting one machine under one price plan, from start to stop."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import Machine, RentalSession, Renter
from collector.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.plans import get_plan, to_domain

logger = logging.getLogger(__name__)


def get_machine(db: Session, agent_id: str) -> Machine:
    machine = db.get(Machine, agent_id)
    if machine is None:
        raise NotFound("machine", agent_id)
    return machine


def start_session(
    db: Session, *, agent_id: str, renter_id: str, plan_name: str, now: datetime
) -> RentalSession:
    """Open a session; the renter account is created on its first rental."""
    renter_id = renter_id.strip()
    if not renter_id or len(renter_id) > 100:
        raise InvalidArgument("renter must be 1 to 100 characters")
    machine = db.get(Machine, agent_id, with_for_update=True)
    if machine is None:
        raise NotFound("machine", agent_id)
    plan = get_plan(db, plan_name)
    if to_domain(plan).hourly_rate(machine.machine_class) is None:
        raise FailedPrecondition(
            f"plan {plan_name!r} has no hourly rate for machine class {machine.machine_class!r}"
        )
    if open_session_of(db, agent_id) is not None:
        raise FailedPrecondition(f"machine {agent_id} is already rented")
    if db.get(Renter, renter_id) is None:
        db.add(Renter(id=renter_id, created_at=now, invoiced_until=now))
        db.flush()
    rental = RentalSession(
        id="s-" + secrets.token_hex(8),
        agent_id=agent_id,
        renter_id=renter_id,
        plan_id=plan.id,
        machine_class=machine.machine_class,
        started_at=now,
        cost_minor=0,
        covered_us=0,
    )
    db.add(rental)
    db.flush()
    logger.info(
        "session %s started: machine %s, renter %s, plan %s", rental.id, agent_id, renter_id, plan_name
    )
    return get_session(db, rental.id)


def stop_session(db: Session, session_id: str, now: datetime) -> RentalSession:
    rental = get_session(db, session_id)
    if rental.ended_at is not None:
        raise FailedPrecondition(f"session {session_id} was already stopped at {rental.ended_at.isoformat()}")
    rental.ended_at = now
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
    db: Session, *, renter_id: str = "", agent_id: str = "", open_only: bool = False
) -> list[RentalSession]:
    query = select(RentalSession).order_by(RentalSession.started_at)
    if renter_id:
        query = query.where(RentalSession.renter_id == renter_id)
    if agent_id:
        query = query.where(RentalSession.agent_id == agent_id)
    if open_only:
        query = query.where(RentalSession.ended_at.is_(None))
    return list(db.scalars(query))
