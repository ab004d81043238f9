"""The fleet at a glance: every machine with its state, its open session and what that session costs per
hour now, the machine's utilisation over its last report, and counts per machine class.

Built in a fixed number of queries, whatever the fleet's size (the portal polls it): machines, open
sessions with their plans, report gaps, and utilisation (one for CPUs, one for GPUs). Sessions on the same
plan with the same terms share one price of the next hour (billing.quote); revenue per hour is their sum
per currency, rounded once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

import billing
from billing.money import exponent, round_half_up
from collector.db.models import GpuSample, Machine, PricePlan, RentalSession, Report, Sample
from collector.metering.gaps import gap_counts
from collector.sessions.plans import versions_of
from collector.sessions.price_locks import locks_from
from collector.sessions.rates import hourly_rate


@dataclass(frozen=True)
class OpenSession:
    """The open session on a machine, as the fleet shows it."""

    id: str
    renter_id: str
    currency: str


@dataclass(frozen=True)
class FleetMachine:
    machine: Machine
    online: bool
    gap_count: int
    rental: OpenSession | None
    rate_per_hour_minor: int  # of the open session, in its plan's currency; 0 without one
    cpu_utilization: float  # over the last report, 0..1
    gpu_utilization_percent: tuple[int, ...]  # per GPU (by index) over the last report


@dataclass
class ClassCount:
    online: int = 0
    offline: int = 0
    rented: int = 0
    revoked: int = 0


@dataclass(frozen=True)
class Fleet:
    machines: list[FleetMachine]
    classes: dict[str, ClassCount]
    revenue_per_hour_minor: dict[str, int]  # currency -> open sessions' rates, summed
    at: datetime


def fleet(db: Session, now: datetime, online_window: timedelta, host_id: str | None = None) -> Fleet:
    """The machines of `host_id` (None: every machine) as they are at `now`."""
    machines = list(db.scalars(_of_host(select(Machine), host_id).order_by(Machine.enrolled_at)))
    rentals, rates = _open_sessions(db, host_id, now)
    gaps = gap_counts(db)
    cpu, gpus = _last_report_utilization(db, host_id)
    classes: dict[str, ClassCount] = defaultdict(ClassCount)
    revenue: dict[str, Fraction] = defaultdict(Fraction)
    listed = []
    for machine in machines:
        seen = machine.last_seen_at
        online = seen is not None and now - seen <= online_window and machine.revoked_at is None
        rental = rentals.get(machine.agent_id)
        rate_minor = 0
        if rental is not None:
            revenue[rental.currency] += rates[rental.id]
            rate_minor = round_half_up(rates[rental.id])
        count = classes[machine.machine_class]
        if machine.revoked_at is not None:
            count.revoked += 1
        elif online:
            count.online += 1
        else:
            count.offline += 1
        count.rented += rental is not None
        listed.append(
            FleetMachine(machine, online, gaps.get(machine.agent_id, 0), rental, rate_minor,
                         cpu.get(machine.agent_id, 0.0), gpus.get(machine.agent_id, ()))
        )  # fmt: skip
    per_hour = {currency: round_half_up(total) for currency, total in sorted(revenue.items())}
    return Fleet(listed, dict(sorted(classes.items())), per_hour, now)


Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def _of_host(query: Q, host_id: str | None) -> Q:
    return query if host_id is None else query.where(Machine.host_id == host_id)


def _open_sessions(
    db: Session, host_id: str | None, now: datetime
) -> tuple[dict[str, OpenSession], dict[str, Fraction]]:
    """The open session of each machine, and each one's price of the next hour in minor units: one quote
    per distinct plan and terms. Read as rows, not ORM objects (the fleet may be large)."""
    query = _of_host(
        select(RentalSession.id, RentalSession.agent_id, RentalSession.renter_id, RentalSession.plan_id,
               RentalSession.machine_class, RentalSession.service_level, RentalSession.member_tier,
               RentalSession.coupon, RentalSession.resources, RentalSession.price_locks)
        .join(Machine, Machine.agent_id == RentalSession.agent_id)
        .where(RentalSession.ended_at.is_(None)),
        host_id,
    )  # fmt: skip
    rows = list(db.execute(query))
    plans_query = select(PricePlan).where(PricePlan.id.in_({row.plan_id for row in rows}))
    plans = {plan.id: plan for plan in db.scalars(plans_query.options(selectinload(PricePlan.versions)))}
    priced: dict[tuple[Any, ...], Fraction] = {}
    sessions, rates = {}, {}
    for row in rows:
        plan = plans[row.plan_id]
        resources = tuple(sorted((row.resources or {}).items()))
        locks = locks_from(row.price_locks)
        key = (
            row.plan_id,
            row.machine_class,
            row.service_level,
            row.member_tier,
            row.coupon,
            resources,
            locks,
        )
        if key not in priced:
            held = {name: Decimal(quantity) for name, quantity in resources}
            terms = billing.RentalTerms(
                row.machine_class, row.service_level, row.member_tier, row.coupon, held, locks
            )
            priced[key] = hourly_rate(versions_of(plan), terms, now) * 10 ** exponent(plan.currency)
        sessions[row.agent_id] = OpenSession(row.id, row.renter_id, plan.currency)
        rates[row.id] = priced[key]
    return sessions, rates


def _last_report_utilization(
    db: Session, host_id: str | None
) -> tuple[dict[str, float], dict[str, tuple[int, ...]]]:
    """Per machine over its last stored report: the CPU busy share (samples' own, weighted by their
    duration) and each GPU's utilisation in percent (likewise)."""
    last = _of_host(
        select(Report.agent_id, Report.start_us, Report.end_us).join(
            Machine, (Machine.agent_id == Report.agent_id) & (Report.sequence == Machine.last_sequence)
        ),
        host_id,
    ).subquery()
    duration = Sample.end_us - Sample.start_us
    in_last = (last.c.agent_id == Sample.agent_id) & (Sample.start_us >= last.c.start_us)
    in_last &= Sample.start_us < last.c.end_us
    cpu_query = (
        select(Sample.agent_id, func.sum(Sample.cpu_utilization * duration), func.sum(duration))
        .join(last, in_last)
        .group_by(Sample.agent_id)
    )
    cpu = {agent: float(busy) / float(total) for agent, busy, total in db.execute(cpu_query) if total}
    gpu_duration = GpuSample.end_us - GpuSample.start_us
    gpu_in_last = (last.c.agent_id == GpuSample.agent_id) & (GpuSample.start_us >= last.c.start_us)
    gpu_in_last &= GpuSample.start_us < last.c.end_us
    gpu_query = (
        select(GpuSample.agent_id, GpuSample.gpu_index,
               func.sum(GpuSample.utilization_percent * gpu_duration), func.sum(gpu_duration))
        .join(last, gpu_in_last)
        .group_by(GpuSample.agent_id, GpuSample.gpu_index)
        .order_by(GpuSample.agent_id, GpuSample.gpu_index)
    )  # fmt: skip
    gpus: dict[str, list[int]] = defaultdict(list)
    for agent, _index, busy, total in db.execute(gpu_query):
        gpus[agent].append(round(float(busy) / float(total)) if total else 0)
    return cpu, {agent: tuple(values) for agent, values in gpus.items()}
