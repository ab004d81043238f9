"""Job leases: with several collectors on one database, each period of a scheduled job runs once.

A job's period is a whole number of its intervals since the Unix epoch. Before a run, a collector claims the
job's period in `job_leases` with one conditional UPDATE; the row's lock makes the claim atomic, so of the
collectors whose schedules fire in one period exactly one runs it (the others skip). A claim also needs the
previous run finished or its lease expired: a run still going on another collector (it renews its lease
while it runs) is not overlapped, and a collector killed mid-run holds the job for at most its lease.

Times come from the collectors' clocks (kept by NTP); a lease outlives a clock difference many times over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collector.db.models import JobLease


def period_of(now: datetime, interval: timedelta) -> int:
    """The index of the period of length `interval` that `now` falls in (periods start at the epoch)."""
    step_us = max(1, int(interval / timedelta(microseconds=1)))
    since_us = int(now.timestamp() * 1_000_000)
    return since_us // step_us


def claim(db: Session, job: str, period: int, holder: str, now: datetime, lease: timedelta) -> bool:
    """Claim `period` of `job` for `holder`; True when this run is the period's only one.

    Refused when the period (or a later one) is claimed already, or the last run is unfinished and its
    lease still holds."""
    _ensure_row(db, job, now)
    claimed = db.execute(
        update(JobLease)
        .where(
            JobLease.job == job,
            JobLease.period < period,
            or_(JobLease.finished.is_(True), JobLease.leased_until < now),
        )
        .values(period=period, holder=holder, leased_until=now + lease, finished=False)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


def renew(db: Session, job: str, holder: str, now: datetime, lease: timedelta) -> bool:
    """Extend the lease of a run under way; False when the lease was lost (it expired and was claimed)."""
    renewed = db.execute(
        update(JobLease)
        .where(JobLease.job == job, JobLease.holder == holder, JobLease.finished.is_(False))
        .values(leased_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def finish(db: Session, job: str, holder: str, period: int) -> None:
    """Mark the run of `period` done: the next period may be claimed at once."""
    db.execute(
        update(JobLease)
        .where(and_(JobLease.job == job, JobLease.holder == holder, JobLease.period == period))
        .values(finished=True)
        .execution_options(synchronize_session=False)
    )


def holders(db: Session) -> dict[str, tuple[str, int, bool]]:
    """Per job: who claimed it last, for which period, and whether that run finished."""
    rows = db.execute(select(JobLease.job, JobLease.holder, JobLease.period, JobLease.finished))
    return {job: (holder, period, finished) for job, holder, period, finished in rows}


def _ensure_row(db: Session, job: str, now: datetime) -> None:
    """The job's row, created unclaimed (period -1) by whichever collector comes first."""
    values = {"job": job, "period": -1, "holder": "", "leased_until": now, "finished": True}
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.execute(insert(JobLease).values(**values).on_conflict_do_nothing(index_elements=["job"]))
