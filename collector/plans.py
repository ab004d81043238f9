"""Price plans in the database, and their conversion to the billing domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import billing
from collector.db.models import PricePlan
from collector.errors import AlreadyExists, NotFound


def to_domain(row: PricePlan) -> billing.PricePlan:
    return billing.PricePlan.from_text(
        row.name, row.currency, row.hourly_rates, row.traffic_in_per_gb, row.traffic_out_per_gb,
        increment_us=row.increment_us, minimum_us=row.minimum_us,
    )  # fmt: skip


def create_plan(db: Session, plan: billing.PricePlan, now: datetime) -> PricePlan:
    """Store a validated plan. Raises AlreadyExists when the name is taken."""
    if db.scalar(select(PricePlan.id).where(PricePlan.name == plan.name)) is not None:
        raise AlreadyExists(f"price plan {plan.name!r} already exists")
    row = PricePlan(
        name=plan.name,
        currency=plan.currency,
        hourly_rates={cls: str(rate) for cls, rate in plan.hourly_rates.items()},
        traffic_in_per_gb=str(plan.traffic_in_per_gb),
        traffic_out_per_gb=str(plan.traffic_out_per_gb),
        increment_us=plan.increment_us,
        minimum_us=plan.minimum_us,
        created_at=now,
    )
    db.add(row)
    try:
        db.flush()
    except IntegrityError:
        raise AlreadyExists(f"price plan {plan.name!r} already exists") from None
    return row


def get_plan(db: Session, name: str) -> PricePlan:
    row = db.scalar(select(PricePlan).where(PricePlan.name == name))
    if row is None:
        raise NotFound("price plan", name)
    return row


def list_plans(db: Session) -> list[PricePlan]:
    return list(db.scalars(select(PricePlan).order_by(PricePlan.name)))
