"""A backtest of a demand-price policy over stored sessions (billing/backtest.py states the model).

Reads the sessions and machines of the span from the database, cuts rented time into the policy's steps
per machine class, and replays each class the policy covers. Nothing is written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import billing
from billing.backtest import BacktestResult, StepDemand, backtest_class
from billing.dynamic import policy_for
from billing.plan import BEGINNING
from collector.core.errors import InvalidArgument
from collector.db.models import Machine, RentalSession

MAX_STEPS = 24 * 366
MICROS = timedelta(microseconds=1)


def backtest(
    db: Session, plan: billing.PricePlan, start: datetime, end: datetime, elasticity: Decimal
) -> list[BacktestResult]:
    """Each class with sessions in [start, end) that the plan's `[dynamic]` covers, replayed (by class
    name). The plan's prices apply throughout, whatever its effective_from."""
    plan = replace(plan, effective_from=BEGINNING)
    if not plan.dynamic:
        raise InvalidArgument("the policy file has no [dynamic] section")
    if not start < end:
        raise InvalidArgument("--from must be before --to")
    occupied = _occupied(db, start, end)
    machines = list(db.execute(select(Machine.machine_class, Machine.enrolled_at, Machine.revoked_at)))
    results = []
    for machine_class in sorted({c for c, _ in occupied} | {m.machine_class for m in machines}):
        policy = policy_for(plan.dynamic, machine_class)
        if policy is None:
            continue
        step = timedelta(microseconds=policy.step_us)
        starts = _steps(policy.step_start(start), end, step)
        if len(starts) > MAX_STEPS:
            raise InvalidArgument(f"the span holds more than {MAX_STEPS} steps of the policy")
        used = _by_step(occupied, machine_class, starts, step)
        demand = [
            StepDemand(moment, used[moment], sum(
                1 for m in machines if m.machine_class == machine_class and m.enrolled_at <= moment
                and (m.revoked_at is None or m.revoked_at > moment)))
            for moment in starts
        ]  # fmt: skip
        results.append(backtest_class(plan, policy, machine_class, demand, elasticity))
    return results


def _occupied(db: Session, start: datetime, end: datetime) -> list[tuple[str, tuple[datetime, datetime]]]:
    """(class, rented span clipped to [start, end)) of every session overlapping the span."""
    query = select(RentalSession.machine_class, RentalSession.started_at, RentalSession.ended_at).where(
        RentalSession.started_at < end, or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > start)
    )
    return [
        (machine_class, (max(began, start), min(ended or end, end)))
        for machine_class, began, ended in db.execute(query)
    ]


def _steps(first: datetime, end: datetime, step: timedelta) -> list[datetime]:
    starts = []
    while first < end:
        starts.append(first)
        first += step
    return starts


def _by_step(
    occupied: list[tuple[str, tuple[datetime, datetime]]],
    machine_class: str,
    starts: list[datetime],
    step: timedelta,
) -> dict[datetime, int]:
    used: dict[datetime, int] = defaultdict(int)
    if not starts:
        return used
    origin = starts[0]
    for other, (a, b) in occupied:
        if other != machine_class:
            continue
        while a < b:
            index = (a - origin) // step
            stop = min(origin + (index + 1) * step, b)
            used[origin + index * step] += (stop - a) // MICROS
            a = stop
    return used
