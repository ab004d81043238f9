"""The published price schedule: demand multipliers per plan and machine class, published ahead and never
changed (a published price is a promise: a session starting in a step locks its multiplier).

The `publish-prices` job (every minute) counts occupancy history, then for every plan with `[dynamic]`
policies and every class they cover publishes the steps that are not yet published, begin after now and
start within the policy's `publish_ahead`. A step's expected occupancy blends occupancy now with the
history's average for its hour of the week: now counts fully for the next step and fades out linearly over
NOW_FADES; without history, occupancy now is used throughout. Each class of each plan is one subject of the
job (a savepoint), and its plan row is locked while it publishes, so collectors sharing a database never
publish a step twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from billing.dynamic import DemandPolicy, PriceLock, policy_for
from billing.money import EXACT, to_decimal
from collector.core.errors import InvalidArgument, NotFound
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import PricePlan, PriceStep
from collector.pricing.demand_history import History, count_occupancy, machines_by_class, occupancy_now
from collector.sessions.plans import get_plan, list_plans, versions_of
from collector.sessions.rates import hourly_rate

PRICING_JOB = "publish-prices"
NOW_FADES = timedelta(hours=6)
MAX_SCHEDULE_HOURS = 24 * 7


def publish_prices(db: Session, now: datetime, online_window: timedelta) -> JobOutcome:
    """The job: count occupancy, then publish every plan's due steps, each class on its own."""
    run = JobRun(db, PRICING_JOB, now)
    run.each("occupancy", partial(count_occupancy, db, now))
    enrolled, online = machines_by_class(db, now, online_window)
    subjects = []
    for plan in list_plans(db):
        versions = versions_of(plan)
        for machine_class in covered_classes(versions, set(enrolled)):
            subject = f"plan {plan.name} class {machine_class}"
            subjects.append(subject)
            machines = (enrolled.get(machine_class, 0), online.get(machine_class, 0))
            run.each(subject, partial(publish_class, db, plan, versions, machine_class, machines, now))
    run.settle(["occupancy", *subjects])
    return run.outcome


def covered_classes(versions: list[billing.PricePlan], fleet_classes: set[str]) -> list[str]:
    """Classes a plan's policies cover: those named, and for a policy of every class, every class the plan
    or the fleet knows."""
    found: set[str] = set()
    for version in versions:
        for policy in version.dynamic:
            if policy.machine_class:
                found.add(policy.machine_class)
            else:
                found |= fleet_classes | {c.name for c in version.classes}
                found |= {r.machine_class for r in version.rules if r.machine_class}
    return sorted(found)


def publish_class(
    db: Session,
    plan: PricePlan,
    versions: list[billing.PricePlan],
    machine_class: str,
    machines: tuple[int, int],
    now: datetime,
) -> int:
    """Publish the due steps of one class of one plan; how many were published."""
    db.scalars(select(PricePlan).where(PricePlan.id == plan.id).with_for_update()).first()
    current = _policy_at(versions, machine_class, now)
    if current is None:
        return 0
    last = db.scalars(
        select(PriceStep)
        .where(PriceStep.plan_id == plan.id, PriceStep.machine_class == machine_class)
        .order_by(PriceStep.starts_at.desc())
        .limit(1)
    ).first()
    previous = Decimal(last.multiplier) if last is not None else None
    enrolled, online = machines
    history = History(db, machine_class, enrolled, now)
    occupancy = occupancy_now(db, machine_class, online)
    published = 0
    for start in current.steps_to_publish(now, last.ends_at if last is not None else None):
        policy = _policy_at(versions, machine_class, start)
        if policy is None:
            continue
        expected = expected_occupancy(occupancy, history.expected(start), start - now)
        previous = policy.next_multiplier(previous, expected)
        end = start + timedelta(microseconds=policy.step_us)
        db.add(PriceStep(plan_id=plan.id, machine_class=machine_class, starts_at=start, ends_at=end,
                         multiplier=str(previous), occupancy=str(billing.plain(_decimal(expected))),
                         published_at=now))  # fmt: skip
        published += 1
    db.flush()
    return published


def expected_occupancy(now_occupancy: Fraction, forecast: Fraction | None, ahead: timedelta) -> Fraction:
    """Occupancy now, fading into the forecast for the hour over NOW_FADES (exact)."""
    if forecast is None:
        return now_occupancy
    weight = max(
        Fraction(0), 1 - Fraction(ahead // timedelta(microseconds=1), NOW_FADES // timedelta(microseconds=1))
    )
    return weight * now_occupancy + (1 - weight) * forecast


def _policy_at(
    versions: list[billing.PricePlan], machine_class: str, moment: datetime
) -> DemandPolicy | None:
    try:
        version = versions[billing.version_at(versions, moment)]
    except billing.NotRated:
        return None
    return policy_for(version.dynamic, machine_class)


def _decimal(value: Fraction) -> Decimal:
    return to_decimal(value).quantize(Decimal("0.0001"), context=EXACT)


@dataclass(frozen=True)
class ScheduleStep:
    """One published step with what an hour of the class costs in it (time price, multiplier applied)."""

    starts_at: datetime
    ends_at: datetime
    multiplier: Decimal
    occupancy: Decimal
    price_per_hour: Decimal


@dataclass(frozen=True)
class Schedule:
    plan: str
    currency: str
    machine_class: str
    locked_for: str  # "the whole session" or a duration in hours
    steps: list[ScheduleStep]


def price_schedules(
    db: Session, machine_class: str, now: datetime, hours: int, plan_name: str = ""
) -> list[Schedule]:
    """The published steps of `machine_class` in force from now for `hours`, per plan with dynamic prices
    for the class (one plan when `plan_name` is given)."""
    if not 1 <= hours <= MAX_SCHEDULE_HOURS:
        raise InvalidArgument(f"hours: from 1 to {MAX_SCHEDULE_HOURS}")
    plans = [get_plan(db, plan_name)] if plan_name else list_plans(db)
    found = []
    for plan in plans:
        versions = versions_of(plan)
        policy = _policy_at(versions, machine_class, now)
        if policy is None:
            continue
        rows = db.scalars(
            select(PriceStep)
            .where(PriceStep.plan_id == plan.id, PriceStep.machine_class == machine_class,
                   PriceStep.ends_at > now, PriceStep.starts_at < now + timedelta(hours=hours))
            .order_by(PriceStep.starts_at)
        )  # fmt: skip
        steps = [_step(versions, machine_class, row) for row in rows]
        locked = (
            "the whole session" if policy.lock_us is None else f"{Fraction(policy.lock_us, 3_600_000_000)} h"
        )
        found.append(Schedule(plan.name, plan.currency, machine_class, locked, steps))
    if plan_name and not found:
        raise NotFound("dynamic prices of class", f"{machine_class} in plan {plan_name}")
    return found


def _step(versions: list[billing.PricePlan], machine_class: str, row: PriceStep) -> ScheduleStep:
    multiplier = Decimal(row.multiplier)
    terms = billing.RentalTerms(machine_class, demand=(PriceLock(row.starts_at, multiplier),))
    price = to_decimal(hourly_rate(versions, terms, row.starts_at)).quantize(Decimal("1e-6"), context=EXACT)
    return ScheduleStep(row.starts_at, row.ends_at, multiplier, Decimal(row.occupancy), price.normalize())
