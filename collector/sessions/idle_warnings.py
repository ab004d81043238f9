"""Warning the renter before an idle session's billing pauses or is discounted (a plan's `[idle]` table).

When the machine of an open session has been idle (billing/idle.py: the CPU and every GPU below the plan's
`below`) for `after` minus WARN_BEFORE, up to its latest sample, its agent gets an IDLE_WARNING control,
once per idle stretch (the stretch's start is kept with the session; a pause in the reports without a
busy sample does not start a new stretch).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.assurance import IdleRule
from billing.rating import version_at
from collector.core.clock import to_us
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import RentalSession, Sample
from collector.metering.coverage import idle_spans
from collector.sessions.plans import versions_of

IDLE_WARNINGS_JOB = "idle-warnings"
WARN_BEFORE = timedelta(minutes=1)
LATE = timedelta(minutes=2)  # a stretch already idle this long beyond `after` is not warned about any more


def idle_warnings(db: Session, now: datetime) -> tuple[list[tuple[RentalSession, str]], JobOutcome]:
    """The open sessions whose renter is to be warned now, with the warning's text; each on its own."""
    rentals = list(db.scalars(select(RentalSession).where(RentalSession.ended_at.is_(None))))
    run = JobRun(db, IDLE_WARNINGS_JOB, now)
    found = []
    for rental in rentals:
        text = run.each(f"session {rental.id}", partial(_warning, db, rental, now))
        found += [(rental, text)] if text else []
    run.settle(f"session {rental.id}" for rental in rentals)
    return found, run.outcome


def _warning(db: Session, rental: RentalSession, now: datetime) -> str | None:
    versions = versions_of(rental.plan)
    rule = versions[version_at(versions, rental.started_at)].idle
    if rule is None:
        return None
    after = timedelta(microseconds=rule.after_us)
    window_start = max(rental.started_at, now - after - LATE)
    last = db.scalar(select(func.max(Sample.end_us)).where(Sample.agent_id == rental.agent_id))
    if last is None:
        return None
    spans = idle_spans(db, rental.agent_id, to_us(window_start), to_us(now), float(rule.below_percent))
    stretch = _trailing_stretch(spans)
    if stretch is None or to_us(stretch[1]) != min(int(last), to_us(now)):
        return None  # not idle up to the latest sample
    start, end = stretch
    already_late = start == window_start and window_start > rental.started_at
    if already_late or end - start < after - WARN_BEFORE or _warned(db, rental, rule, to_us(start)):
        return None
    rental.idle_warned_us = to_us(start)
    return _text(rule, end - start)


def _warned(db: Session, rental: RentalSession, rule: IdleRule, start_us: int) -> bool:
    """Whether the renter was warned about this idle stretch: one warned about began at or before it, with
    no busy sample since (a pause in the reports does not end a stretch's warning)."""
    warned = rental.idle_warned_us
    if warned is None or warned > start_us:
        return False
    count = select(func.count()).where(
        Sample.agent_id == rental.agent_id, Sample.start_us >= warned, Sample.start_us < start_us
    )
    idle = idle_spans(db, rental.agent_id, warned, start_us, float(rule.below_percent))
    return int(db.scalar(count) or 0) == len(idle)


def _trailing_stretch(spans: list[tuple[datetime, datetime]]) -> tuple[datetime, datetime] | None:
    """The last stretch of back-to-back idle samples (`spans` in time order)."""
    if not spans:
        return None
    start, end = spans[-1]
    for earlier_start, earlier_end in reversed(spans[:-1]):
        if earlier_end < start:
            break
        start = earlier_start
    return start, end


def _text(rule: IdleRule, idle: timedelta) -> str:
    minutes, after = idle // timedelta(minutes=1), rule.after_us // 60_000_000
    then = "billing pauses" if not rule.rate else f"rental time costs x{format(rule.rate.normalize(), 'f')}"
    return f"idle for {minutes} min: after {after} min idle {then}"
