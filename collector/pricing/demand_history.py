"""Occupancy of machine classes: now (open sessions / machines online) and, from history, expected per hour
of the week.

History is counted incrementally: each run adds the rented machine time of sessions between the last run
and now to per-class, per-UTC-hour buckets (class_occupancy), so no run rescans what an earlier one
counted. The first run starts at the first machine's enrollment, at most HISTORY before now.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from collector.db.models import ClassOccupancy, Machine, OccupancyMark, RentalSession

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
HISTORY = timedelta(days=28)  # how far back the first count starts, and how many weeks forecasts average
MICROS = timedelta(microseconds=1)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def count_occupancy(db: Session, now: datetime) -> int:
    """Add the rented time of every session since the last count to the hourly buckets; the number of
    buckets touched. The mark row is locked, so collectors sharing a database count each second once."""
    mark = db.scalars(select(OccupancyMark).where(OccupancyMark.id == 1).with_for_update()).first()
    if (
        mark is None
    ):  # from the first machine's enrollment (before it, no class had machines), at most HISTORY
        first = db.scalar(select(func.min(Machine.enrolled_at))) or now
        start = min(max(first, now - HISTORY), now)
        mark = OccupancyMark(id=1, counted_from=start, counted_until=start)
        db.add(mark)
    since = mark.counted_until
    if since >= now:
        return 0
    query = select(RentalSession.machine_class, RentalSession.started_at, RentalSession.ended_at).where(
        RentalSession.started_at < now,
        or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > since),
    )
    buckets: dict[tuple[str, datetime], int] = defaultdict(int)
    for machine_class, started, ended in db.execute(query):
        start, end = max(started, since), min(ended or now, now)
        while start < end:
            stop = min(hour_of(start) + HOUR, end)
            buckets[(machine_class, hour_of(start))] += (stop - start) // MICROS
            start = stop
    for (machine_class, hour), micros in sorted(buckets.items()):
        row = db.get(ClassOccupancy, (machine_class, hour))
        if row is None:
            db.add(ClassOccupancy(machine_class=machine_class, hour_start=hour, occupied_us=micros))
        else:
            row.occupied_us += micros
    mark.counted_until = now
    db.flush()
    return len(buckets)


def machines_by_class(
    db: Session, now: datetime, online_window: timedelta
) -> tuple[dict[str, int], dict[str, int]]:
    """Per class: machines not revoked, and those of them online (seen within `online_window`)."""
    rows = db.execute(
        select(Machine.machine_class, Machine.last_seen_at).where(Machine.revoked_at.is_(None))
    ).all()
    enrolled: dict[str, int] = defaultdict(int)
    online: dict[str, int] = defaultdict(int)
    for machine_class, seen in rows:
        enrolled[machine_class] += 1
        online[machine_class] += seen is not None and now - seen <= online_window
    return dict(enrolled), dict(online)


def occupancy_now(db: Session, machine_class: str, online: int) -> Fraction:
    """Open sessions of the class over its machines online (1 when sessions are open and none is online)."""
    rented = db.scalar(
        select(func.count())
        .select_from(RentalSession)
        .where(RentalSession.machine_class == machine_class, RentalSession.ended_at.is_(None))
    )
    if not online:
        return Fraction(1 if rented else 0)
    return min(Fraction(rented or 0, online), Fraction(1))


class History:
    """Counted occupancy of one class over the last weeks, read once: the expected occupancy of an hour is
    the average of the same UTC hour of the week in the counted weeks before it (None: none counted)."""

    def __init__(self, db: Session, machine_class: str, machines: int, now: datetime) -> None:
        mark = db.get(OccupancyMark, 1)
        self._from = mark.counted_from if mark else now
        self._until = mark.counted_until if mark else now
        self._machines = machines
        query = select(ClassOccupancy.hour_start, ClassOccupancy.occupied_us).where(
            ClassOccupancy.machine_class == machine_class, ClassOccupancy.hour_start >= now - HISTORY - WEEK
        )
        self._occupied = {hour: micros for hour, micros in db.execute(query)}

    def expected(self, moment: datetime) -> Fraction | None:
        if not self._machines:
            return None
        hour = hour_of(moment)
        weeks = [hour - WEEK * k for k in range(1, HISTORY // WEEK + 1)]
        counted = [h for h in weeks if h >= self._from and h + HOUR <= self._until]
        if not counted:
            return None
        total = sum(self._occupied.get(h, 0) for h in counted)
        return min(Fraction(total, len(counted) * self._machines * (HOUR // MICROS)), Fraction(1))
