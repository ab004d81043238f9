"""Rating from checkpoints kept in the database: a session's rating costs what is new, not its history.

Each rating of a session goes on from its checkpoint (billing/checkpoints.py: the engine's state at the
last closed segment boundary) and, inside the open segment, from the usage already measured there up to
the machine's last report; it measures only the samples after that. Closed means before the machine's
last report end (usage before it has arrived) and before the end rated.

A checkpoint is dropped, and the session rated from its start again, when what it was taken under changes:
- the plan's versions, the session's terms (class, service level, tier, coupon, resources, price locks)
  or its machine's GPU models (the row's `basis` digest);
- usage before it: a report stored after the newest one seen (`report_id`) that starts before the
  checkpoint (a late report from the agent's spool) drops it; one that starts inside the open segment's
  measured part drops only that part.

The newest checkpoint and the one before it are kept, so that the burn rate's cost ten minutes back
(collector/sessions/live.py) also goes on from one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import billing
from collector.core.clock import from_us, to_us
from collector.db.models import RatingCheckpoint, RentalSession, Report
from collector.metering.usage import usage_summary


@dataclass(frozen=True)
class Arrivals:
    """Reports stored after the row's `report_id`: the newest id, and the earliest start among them."""

    newest_id: int
    earliest_start_us: int | None


def arrivals(db: Session, agent_id: str, after_id: int) -> Arrivals:
    """One range read of ix_reports_agent_id: only the reports since the last check."""
    newest, earliest = db.execute(
        select(func.max(Report.id), func.min(Report.start_us)).where(
            Report.agent_id == agent_id, Report.id > after_id
        )
    ).one()
    return Arrivals(after_id if newest is None else int(newest), None if earliest is None else int(earliest))


def basis(rental: RentalSession, terms: billing.RentalTerms, models: dict[str, str]) -> str:
    """Digest of what the session's rating depends on besides usage."""
    versions = [(v.number, v.effective_from.isoformat(), v.document) for v in rental.plan.versions]
    text = repr((rental.plan_id, versions, terms, sorted(models.items())))
    return hashlib.sha256(text.encode()).hexdigest()


class Measure:
    """`usage_of` for the engine: the open segment from its measured part plus what came after; every
    other segment from the samples. Remembers the open segment's usage up to `settled` for the next run."""

    def __init__(
        self,
        db: Session,
        rental: RentalSession,
        models: dict[str, str],
        end: datetime,
        settled: datetime | None,
        known: tuple[int, int, billing.Usage] | None,
    ) -> None:
        self._db, self._agent, self._models = db, rental.agent_id, models
        self._end, self._settled, self._known = end, settled, known
        self.measured = billing.Usage()
        self.open_part: tuple[int, int, billing.Usage] | None = None

    def usage_of(self, start: datetime, stop: datetime) -> billing.Usage:
        usage = self._usage_of(to_us(start), to_us(stop))
        self.measured = self.measured + usage
        return usage

    def _usage_of(self, start_us: int, stop_us: int) -> billing.Usage:
        settled = to_us(self._settled) if self._settled is not None else None
        if stop_us != to_us(self._end) or settled is None or settled <= start_us:
            return self._samples(start_us, stop_us)
        head = self._head(start_us, min(settled, stop_us))
        self.open_part = (start_us, min(settled, stop_us), head)
        # No sample lies after the machine's last report end; one stored since it was read is counted by
        # the next rating (the measured part ends at `settled`).
        return head

    def _head(self, start_us: int, until_us: int) -> billing.Usage:
        """Usage of [start_us, until_us) from the part measured before, when it starts there."""
        if self._known is None or self._known[0] != start_us:
            return self._samples(start_us, until_us)
        _, known_until, usage = self._known
        if known_until <= until_us:
            return usage + self._samples(known_until, until_us)
        return minus(usage, self._samples(until_us, known_until))

    def _samples(self, start_us: int, stop_us: int) -> billing.Usage:
        if stop_us <= start_us:
            return billing.Usage()
        summary = usage_summary(self._db, self._agent, start_us, stop_us, with_gpus=bool(self._models))
        return summary.billable(self._models)


def minus(whole: billing.Usage, part: billing.Usage) -> billing.Usage:
    """`whole` without `part`, a sub-span of it (every meter adds up over adjacent spans)."""
    gpus = {model: micros - part.gpu_us.get(model, 0) for model, micros in whole.gpu_us.items()}
    return billing.Usage(
        whole.covered_us - part.covered_us,
        whole.net_rx_bytes - part.net_rx_bytes,
        whole.net_tx_bytes - part.net_tx_bytes,
        whole.cpu_busy_us - part.cpu_busy_us,
        whole.memory_byte_us - part.memory_byte_us,
        whole.energy_mj - part.energy_mj,
        {model: micros for model, micros in gpus.items() if micros},
    )


def usage_json(usage: billing.Usage) -> str:
    return json.dumps([usage.covered_us, usage.net_rx_bytes, usage.net_tx_bytes, usage.cpu_busy_us,
                       usage.memory_byte_us, usage.energy_mj, dict(usage.gpu_us)])  # fmt: skip


def usage_from_json(text: str) -> billing.Usage:
    covered, rx, tx, cpu, memory, energy, gpus = json.loads(text)
    return billing.Usage(covered, rx, tx, cpu, memory, energy, gpus)


@dataclass
class Resumable:
    """What a rating may go on from, after the checks above."""

    row: RatingCheckpoint
    arrived: Arrivals
    fresh: bool  # the basis changed or the row is new: nothing kept is used

    @property
    def unchanged(self) -> bool:
        """Nothing arrived and nothing changed since the row was last checked."""
        return not self.fresh and self.arrived.earliest_start_us is None

    def checkpoint(self, end: datetime) -> billing.Checkpoint | None:
        """The newest kept checkpoint at or before `end`, unless late usage or a new basis voids them."""
        row, late = self.row, self.arrived.earliest_start_us
        if self.fresh or (late is not None and late < (row.until_us or 0)):
            return None
        for until_us, state in ((row.until_us, row.state), (row.previous_until_us, row.previous_state)):
            if until_us is not None and state is not None and until_us <= to_us(end):
                return parsed(row.session_id, state)
        return None

    def open_part(self) -> tuple[int, int, billing.Usage] | None:
        row, late = self.row, self.arrived.earliest_start_us
        if self.fresh or row.open_from_us is None or row.open_until_us is None or row.open_usage is None:
            return None
        if late is not None and late < row.open_until_us:
            return None
        return row.open_from_us, row.open_until_us, usage_from_json(row.open_usage)


@dataclass(frozen=True)
class Prefetched:
    """Fetched once for a job run: the sessions' rows, and what arrived for those that have one."""

    rows: dict[str, RatingCheckpoint]
    arrived: dict[str, Arrivals]


def resumable(db: Session, rental: RentalSession, digest: str, known: Prefetched | None = None) -> Resumable:
    """The session's row and what arrived since it was checked (`known`: fetched for a whole job run by
    `prefetch`)."""
    row = known.rows.get(rental.id) if known is not None else db.get(RatingCheckpoint, rental.id)
    if row is None:  # a session started before checkpoints were kept
        row = RatingCheckpoint(session_id=rental.id, basis="", report_id=0)
        db.add(row)
    if row.basis != digest:  # nothing kept is used: only the newest report matters
        return Resumable(row, Arrivals(newest_report_id(db, rental.agent_id), None), fresh=True)
    if known is not None:
        arrived = known.arrived.get(rental.id, Arrivals(row.report_id, None))
    else:
        arrived = arrivals(db, rental.agent_id, row.report_id)
    return Resumable(row, arrived, fresh=False)


def newest_report_id(db: Session, agent_id: str) -> int:
    """The machine's newest report (0: none), by ix_reports_agent_id."""
    return int(db.scalar(select(func.max(Report.id)).where(Report.agent_id == agent_id)) or 0)


def start(db: Session, rental: RentalSession) -> None:
    """A new session's row, written when it starts, so that the rating job and a watcher never both
    create it; its empty basis makes the first rating rate from the start."""
    db.add(RatingCheckpoint(session_id=rental.id, basis="", report_id=newest_report_id(db, rental.agent_id)))


def prefetch(db: Session, session_ids: list[str]) -> Prefetched:
    """For a job run: every session's checkpoint row (into the session's identity map, so that `resumable`
    reads none again) and, in one query, the reports that arrived for its machine since it was checked."""
    found = Prefetched({}, {})
    for first in range(0, len(session_ids), 500):
        chunk = session_ids[first : first + 500]
        for row in db.scalars(select(RatingCheckpoint).where(RatingCheckpoint.session_id.in_(chunk))):
            found.rows[row.session_id] = row
        query = (
            select(RatingCheckpoint.session_id, func.max(Report.id), func.min(Report.start_us))
            .join(RentalSession, RentalSession.id == RatingCheckpoint.session_id)
            .join(
                Report, (Report.agent_id == RentalSession.agent_id) & (Report.id > RatingCheckpoint.report_id)
            )
            .where(RatingCheckpoint.session_id.in_(chunk))
            .group_by(RatingCheckpoint.session_id)
        )
        for session_id, newest, earliest in db.execute(query):
            found.arrived[session_id] = Arrivals(int(newest), int(earliest))
    return found


def discard(db: Session, rental: RentalSession, known: Prefetched) -> None:
    """Undo what a failed rating changed in the session's objects: its rental and checkpoint row."""
    db.expire(rental)
    row = known.rows.get(rental.id)
    if row is not None:
        db.expire(row)
    for pending in [
        obj for obj in db.new if isinstance(obj, RatingCheckpoint) and obj.session_id == rental.id
    ]:
        db.expunge(pending)


def parsed(session_id: str, state: str) -> billing.Checkpoint | None:
    """The checkpoint stored as `state`, parsed once while it stays the session's newest."""
    cached = _PARSED.get(session_id)
    if cached is not None and cached[0] == state:
        return cached[1]
    checkpoint = billing.Checkpoint.from_json(state)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[session_id] = (state, checkpoint)
    return checkpoint


_PARSED: dict[str, tuple[str, billing.Checkpoint | None]] = {}
_PARSED_MAX = 50_000


def keep(
    found: Resumable, digest: str, checkpoint: billing.Checkpoint | None, measure: Measure, advance: bool
) -> None:
    """Store what the rating leaves: the newest report checked (after voiding what it makes stale) and,
    with `advance` (a rating up to now, not of an earlier moment), the new checkpoint and the open
    segment's measured part."""
    row, late = found.row, found.arrived.earliest_start_us

    def stale(until_us: int | None) -> bool:
        return found.fresh or (late is not None and until_us is not None and late < until_us)

    if stale(row.until_us) or stale(row.previous_until_us):
        row.until_us = row.state = row.previous_until_us = row.previous_state = None
    if stale(row.open_until_us):
        row.open_from_us = row.open_until_us = row.open_usage = None
    row.basis, row.report_id = digest, found.arrived.newest_id
    if not advance:
        return
    if checkpoint is not None and to_us(checkpoint.until) != row.until_us:
        row.previous_until_us, row.previous_state = row.until_us, row.state
        row.until_us, row.state = to_us(checkpoint.until), checkpoint.to_json()
    row.open_from_us = row.open_until_us = row.open_usage = None
    if measure.open_part is not None:
        row.open_from_us, row.open_until_us, usage = measure.open_part
        row.open_usage = usage_json(usage)


def settled_at(rental: RentalSession, end: datetime) -> datetime | None:
    """Before when the session's usage has arrived: its machine's last report end (at most `end`)."""
    last = rental.machine.last_report_end_us
    return None if last is None else min(end, from_us(last))
