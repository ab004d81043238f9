"""Storing verified reports: deduplicated by (agent, sequence), validated, never overlapping in time.

Rules, per agent, applied in sequence order inside one transaction per batch:
- a sequence already stored: DUPLICATE if it is the same report (same signature), else CONFLICT;
- sequence <= the last stored sequence and not stored: CONFLICT. The agent numbers such a report again
  above the last stored sequence (after a torn spool it may have reused sequence numbers);
- a report must be within bounds and well formed (collector.metering.bounds), must not end more than
  MAX_FUTURE_SKEW in the future, and must not start before the machine enrolled: else REJECTED;
- samples before the end of the machine's last report are either the very samples already stored
  (a report numbered again: dropped, never counted twice) or new usage on a clock that stepped back: they
  keep their counters but lose the time stored samples cover, so no second is ever billed twice.
"""

from __future__ import annotations

import enum
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from collector.db.bulk import bulk_insert
from collector.db.models import GpuSample, Machine, Report, ReportGap, Sample
from collector.metering.bounds import MAX_SAMPLE_US, validation_problem

logger = logging.getLogger(__name__)

__all__ = ["MAX_SAMPLE_US", "Ack", "AckStatus", "IncomingReport", "store_reports"]


class AckStatus(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    FORGED = "forged"


@dataclass(frozen=True, slots=True)
class Ack:
    sequence: int
    status: AckStatus
    reason: str = ""
    # Why it was refused, as a bounded metrics label ("" when accepted).
    kind: str = ""


@dataclass(frozen=True, slots=True)
class IncomingGap:
    """A hole the agent reports in its own reporting (signed with the report that carries it)."""

    kind: str  # forged, unreadable, spool_lost, unspecified
    sequence: int | None
    start_us: int | None
    end_us: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class IncomingGpu:
    gpu_index: int
    uuid: str
    utilization_percent: int
    memory_utilization_percent: int
    memory_used_bytes: int
    memory_total_bytes: int
    power_mw: int
    energy_mj: int
    processes: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class IncomingSample:
    start_us: int
    end_us: int
    cpu_busy_us: int
    cpu_utilization: float
    memory_used_bytes: int
    memory_total_bytes: int
    disk_read_bytes: int
    disk_write_bytes: int
    net_rx_bytes: int
    net_tx_bytes: int
    gpus: tuple[IncomingGpu, ...] = ()
    host_energy_mj: int = 0  # CPU packages (RAPL)


@dataclass(frozen=True, slots=True)
class IncomingReport:
    """A report whose signature has been verified, with the exact bytes that were signed."""

    agent_id: str
    sequence: int
    start_us: int
    end_us: int
    samples: tuple[IncomingSample, ...]
    logins: tuple[dict[str, Any], ...]
    boot_time_us: int | None
    payload: bytes
    signature: bytes
    rental_session_id: str = ""
    gaps: tuple[IncomingGap, ...] = ()


@dataclass(slots=True)
class _Watermark:
    """What ingest needs of a machine row, updated in place while a batch is admitted."""

    agent_id: str
    enrolled_at: datetime
    last_sequence: int
    last_report_end_us: int | None


# Each model is mapped to a Table; DeclarativeBase types __table__ as any FromClause.
_MACHINES = cast(Table, Machine.__table__)
_REPORTS = cast(Table, Report.__table__)
_SAMPLES = cast(Table, Sample.__table__)
_GPU_SAMPLES = cast(Table, GpuSample.__table__)
_GAPS = cast(Table, ReportGap.__table__)


def store_reports(db: Session | Connection, reports: Sequence[IncomingReport], now: datetime) -> list[Ack]:
    """Store a batch of verified reports; return one Ack per report, in input order.

    The hot path: SQLAlchemy Core, one SELECT for every machine in the batch, bulk inserts (COPY of the
    samples on PostgreSQL, executemany elsewhere) and one executemany UPDATE of the machines' watermarks.
    """
    connection = db.connection() if isinstance(db, Session) else db
    by_agent: dict[str, list[int]] = defaultdict(list)
    for index, report in enumerate(reports):
        by_agent[report.agent_id].append(index)
    marks = _load_watermarks(connection, list(by_agent))
    acks: list[Ack | None] = [None] * len(reports)
    rows = _Rows()
    for agent_id, indexes in by_agent.items():
        mark = marks.get(agent_id)
        if mark is None:  # verified against a key, so only a deleted machine gets here
            for i in indexes:
                sequence = reports[i].sequence
                acks[i] = Ack(sequence, AckStatus.REJECTED, "agent is not enrolled", "unknown_agent")
            continue
        known = _stored_signatures(connection, agent_id, [reports[i] for i in indexes], mark.last_sequence)
        for i in sorted(indexes, key=lambda i: reports[i].sequence):
            acks[i] = _admit(connection, mark, reports[i], known, now, rows)
    for table, values in (
        (_REPORTS, rows.reports), (_SAMPLES, rows.samples), (_GPU_SAMPLES, rows.gpus), (_GAPS, rows.gaps)
    ):  # fmt: skip
        if values:
            bulk_insert(connection, table, values)
    if marks:
        connection.execute(
            update(_MACHINES)
            .where(_MACHINES.c.agent_id == bindparam("mark_agent_id"))
            .values(
                last_sequence=bindparam("mark_last_sequence"),
                last_report_end_us=bindparam("mark_last_end"),
                last_seen_at=bindparam("mark_seen"),
            ),
            [
                {"mark_agent_id": m.agent_id, "mark_last_sequence": m.last_sequence,
                 "mark_last_end": m.last_report_end_us, "mark_seen": now}
                for m in marks.values()
            ],
        )  # fmt: skip
    return [ack for ack in acks if ack is not None]


def _load_watermarks(connection: Connection, agent_ids: list[str]) -> dict[str, _Watermark]:
    columns = (
        _MACHINES.c.agent_id,
        _MACHINES.c.enrolled_at,
        _MACHINES.c.last_sequence,
        _MACHINES.c.last_report_end_us,
    )
    # Locked in one order (agent id) by every collector sharing the database: two batches holding the same
    # machines never wait for each other crosswise (a deadlock fails both batches' streams).
    query = (
        select(*columns)
        .where(_MACHINES.c.agent_id.in_(agent_ids))
        .order_by(_MACHINES.c.agent_id)
        .with_for_update()
    )
    return {row.agent_id: _Watermark(*row) for row in connection.execute(query)}


def _stored_signatures(
    connection: Connection, agent_id: str, reports: list[IncomingReport], last: int
) -> dict[int, bytes]:
    """Signatures of the stored reports among those sequences of `reports` at or below `last`."""
    candidates = {r.sequence for r in reports if r.sequence <= last}
    if not candidates:
        return {}
    query = select(_REPORTS.c.sequence, _REPORTS.c.signature).where(
        _REPORTS.c.agent_id == agent_id, _REPORTS.c.sequence.in_(candidates)
    )
    return {sequence: signature for sequence, signature in connection.execute(query)}


def _admit(
    connection: Connection,
    machine: _Watermark,
    report: IncomingReport,
    known: dict[int, bytes],
    now: datetime,
    rows: _Rows,
) -> Ack:
    """Decide one report's fate; on acceptance append its rows and advance the machine's watermark."""
    seq = report.sequence
    if seq in known or seq <= machine.last_sequence:
        return _sequence_taken(machine, report, known)
    problem = validation_problem(report, now, machine.enrolled_at)
    if problem:
        logger.warning("agent %s report %d rejected: %s", machine.agent_id, seq, problem.text)
        return Ack(seq, AckStatus.REJECTED, problem.text, problem.kind)
    samples, repeated, clamped_us = _fit(connection, machine, report.samples, rows)
    rows.add_report(machine.agent_id, report, now)
    rows.add_samples(machine.agent_id, seq, samples)
    machine.last_sequence = seq
    machine.last_report_end_us = max(machine.last_report_end_us or 0, report.end_us)
    known[seq] = report.signature
    notes = []
    if repeated:
        notes.append(f"{repeated} samples already stored under an earlier report were not counted again")
    if clamped_us:
        notes.append(f"{clamped_us} us overlapping earlier reports were not counted (clock stepped back?)")
    for note in notes:
        logger.warning("agent %s report %d: %s", machine.agent_id, seq, note)
    for gap in report.gaps:
        logger.warning("agent %s report %d names a gap: %s report %s: %s", machine.agent_id, seq, gap.kind,
                       gap.sequence or "-", gap.reason)  # fmt: skip
    return Ack(seq, AckStatus.ACCEPTED, "; ".join(notes))


def _sequence_taken(machine: _Watermark, report: IncomingReport, known: dict[int, bytes]) -> Ack:
    seq, last = report.sequence, machine.last_sequence
    if known.get(seq) == report.signature:
        return Ack(seq, AckStatus.DUPLICATE)
    if seq in known:
        reason = f"a different report is stored under sequence {seq}; number it above {last}"
    else:
        reason = f"sequence {seq} is not after the last stored {last}; number it above {last}"
    logger.warning("agent %s report %d: %s", machine.agent_id, seq, reason)
    return Ack(seq, AckStatus.CONFLICT, reason, "conflict")


def _fit(
    connection: Connection, machine: _Watermark, samples: Sequence[IncomingSample], rows: _Rows
) -> tuple[list[IncomingSample], int, int]:
    """Fit `samples` into the machine's stored timeline; return (samples, how many dropped, µs cut).

    - A sample already stored is dropped: a report numbered again after a torn spool carries samples
      stored under their first number (the same sample: same end, same counters).
    - Time that stored samples cover is cut off the others, counters stay: a clock stepped back. Only
      covered time is cut, so a renumbered report that arrives after later ones keeps its own time.
    Only samples before the machine's last report end can overlap, so only then is anything looked up.
    """
    last_end = machine.last_report_end_us
    if last_end is None or not samples or samples[0].start_us >= last_end:
        return list(samples), 0, 0
    first = samples[0].start_us
    query = select(*(_SAMPLES.c[name] for name in _STORED_SHAPE)).where(
        _SAMPLES.c.agent_id == machine.agent_id,
        _SAMPLES.c.start_us >= first - MAX_SAMPLE_US,
        _SAMPLES.c.end_us > first,
        _SAMPLES.c.start_us < last_end,
    )
    stored = [tuple(row) for row in connection.execute(query)] + rows.stored_shapes(machine.agent_id)
    same = {shape[1:] for shape in stored}
    fresh = [s for s in samples if tuple(getattr(s, n) for n in _SAMPLE_IDENTITY) not in same]
    covered = _merged([(shape[0], shape[1]) for shape in stored])
    result, cut = [], 0
    for sample in fresh:
        start, end = _first_uncovered(sample.start_us, sample.end_us, covered)
        cut += (sample.end_us - sample.start_us) - (end - start)
        result.append(replace(sample, start_us=start, end_us=end))
    return result, len(samples) - len(fresh), cut


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _first_uncovered(start: int, end: int, covered: list[tuple[int, int]]) -> tuple[int, int]:
    """The first stretch of [start, end) outside `covered` (sorted, disjoint); a fully covered sample
    becomes an empty one where the covering stretch ends (its counters still count)."""
    for low, high in covered:
        if high <= start:
            continue
        if low > start:
            return start, min(end, low)
        start = high
        if start >= end:
            return start, start
    return start, end


_SAMPLE_COLUMNS = [name for name in IncomingSample.__slots__ if name != "gpus"]
_GPU_COLUMNS = [name for name in IncomingGpu.__slots__ if name != "processes"]
# What makes a sample the same sample: its end and every counter (a clamped copy keeps both).
_SAMPLE_IDENTITY = (
    "end_us", "cpu_busy_us", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes"
)  # fmt: skip
_STORED_SHAPE = ("start_us", *_SAMPLE_IDENTITY)


@dataclass(slots=True)
class _Rows:
    """Rows of one batch, inserted together at its end."""

    reports: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    gpus: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def add_report(self, agent_id: str, report: IncomingReport, now: datetime) -> None:
        self.reports.append(
            {
                "agent_id": agent_id,
                "sequence": report.sequence,
                "start_us": report.start_us,
                "end_us": report.end_us,
                "received_at": now,
                "boot_time_us": report.boot_time_us,
                "logins": {"sessions": list(report.logins)},
                "payload": report.payload,
                "signature": report.signature,
                "rental_session_id": report.rental_session_id or None,
            }
        )
        for gap in report.gaps:
            self.gaps.append(
                {"agent_id": agent_id, "reported_in": report.sequence, "kind": gap.kind,
                 "sequence": gap.sequence, "start_us": gap.start_us, "end_us": gap.end_us,
                 "reason": gap.reason, "received_at": now}
            )  # fmt: skip

    def stored_shapes(self, agent_id: str) -> list[tuple[int, ...]]:
        """(start, identity...) of this batch's samples of `agent_id`, not yet inserted."""
        mine = (row for row in self.samples if row["agent_id"] == agent_id)
        return [tuple(row[name] for name in _STORED_SHAPE) for row in mine]

    def add_samples(self, agent_id: str, sequence: int, samples: list[IncomingSample]) -> None:
        for sample in samples:
            key = {"agent_id": agent_id, "report_sequence": sequence}
            self.samples.append({**key, **{name: getattr(sample, name) for name in _SAMPLE_COLUMNS}})
            for gpu in sample.gpus:
                self.gpus.append(
                    {**key, "start_us": sample.start_us, "end_us": sample.end_us,
                     "processes": {"pid_memory": [list(p) for p in gpu.processes]},
                     **{name: getattr(gpu, name) for name in _GPU_COLUMNS}}
                )  # fmt: skip
