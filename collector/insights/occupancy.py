"""The fleet's side of the profiles: per machine class, how its machines are rented by hour of week, what
they earned and how many sit idle — one host's machines, or every host's summed for the provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.db.models import ClassProfile, Machine, RentalSession
from collector.insights.behaviour import ClassOccupancy
from collector.insights.weekly import HOUR_US

# A machine with no session started this long is idle.
IDLE_AFTER = timedelta(days=7)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ClassView:
    machine_class: str
    machines: int  # enrolled, not revoked, of this class (the enrollment class)
    idle_machines: int
    occupancy: ClassOccupancy

    def occupancy_shares(self, now: datetime) -> list[float]:
        """Per UTC hour of week, the rented share of the machines' time since the first session."""
        if not self.occupancy.first_at or not self.machines:
            return [0.0] * len(self.occupancy.hours_us)
        weeks = max(1, -(-(now - datetime.fromisoformat(self.occupancy.first_at)) // WEEK))
        capacity = self.machines * weeks * HOUR_US
        return [min(1.0, us / capacity) for us in self.occupancy.hours_us]


def fleet_profile(
    db: Session, now: datetime, host_id: str | None, machine_class: str = ""
) -> list[ClassView]:
    """Class profiles of `host_id`'s machines (None: every host's, summed), by class name."""
    query = select(ClassProfile)
    if host_id is not None:
        query = query.where(ClassProfile.host_id == host_id)
    if machine_class:
        query = query.where(ClassProfile.machine_class == machine_class)
    merged: dict[str, ClassOccupancy] = {}
    for row in db.scalars(query):
        found = merged.setdefault(row.machine_class, ClassOccupancy())
        found.merge(ClassOccupancy.from_data(row.data))
    machines, idle = _machine_counts(db, now, host_id)
    return [
        ClassView(name, machines.get(name, 0), idle.get(name, 0), merged[name]) for name in sorted(merged)
    ]


def _machine_counts(db: Session, now: datetime, host_id: str | None) -> tuple[dict[str, int], dict[str, int]]:
    """Per class: machines, and those with no session started in IDLE_AFTER."""
    last = (
        select(RentalSession.agent_id, func.max(RentalSession.started_at).label("last"))
        .group_by(RentalSession.agent_id)
        .subquery()
    )
    query = (
        select(Machine.machine_class, last.c.last)
        .outerjoin(last, last.c.agent_id == Machine.agent_id)
        .where(Machine.revoked_at.is_(None))
    )
    if host_id is not None:
        query = query.where(Machine.host_id == host_id)
    machines: dict[str, int] = {}
    idle: dict[str, int] = {}
    for machine_class, started in db.execute(query):
        machines[machine_class] = machines.get(machine_class, 0) + 1
        if started is None or _aware(started) < now - IDLE_AFTER:
            idle[machine_class] = idle.get(machine_class, 0) + 1
    return machines, idle


def _aware(moment: datetime) -> datetime:
    """max() over a UTC column comes back naive from SQLite."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
