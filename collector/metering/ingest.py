"""Storing verified reports: deduplicated by (agent, sequence), validated, never overlapping in time.

Rules, per agent, applied in sequence order inside one transaction per batch:
- sequence <= the last stored sequence: DUPLICATE if that report is stored, else REJECTED (out of order);
- a report must be well formed (end after start, samples ordered, inside the report, not overlapping),
  must not end more than MAX_FUTURE_SKEW in the future, and must not start before the machine enrolled;
- samples before the end of the machine's previous report (a wall clock stepped back) keep their counters
  but lose the overlapping time, so no second is ever billed twice.
"""

from __future__ import annotations

import enum
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from collector.core.clock import to_us
from collector.db.models import GpuSample, Machine, Report, Sample

logger = logging.getLogger(__name__)

MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_SAMPLES_PER_REPORT = 10_000
# Usage queries look this far back for samples straddling their start.
MAX_SAMPLE_US = 3600 * 1_000_000


class AckStatus(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Ack:
    sequence: int
    status: AckStatus
    reason: str = ""


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


@dataclass(slots=True)
class _Watermark:
    """What ingest needs of a machine row, updated in place while a batch is admitted."""

    agent_id: str
    enrolled_at: datetime
    last_sequence: int
    last_report_end_us: int | None


_MACHINES = Machine.__table__
_REPORTS = Report.__table__
_SAMPLES = Sample.__table__
_GPU_SAMPLES = GpuSample.__table__


def store_reports(db: Session, reports: Sequence[IncomingReport], now: datetime) -> list[Ack]:
    """Store a batch of verified reports; return one Ack per report, in input order.

    The hot path: SQLAlchemy Core, one SELECT for every machine in the batch, executemany inserts and one
    executemany UPDATE of the machines' watermarks.
    """
    connection = db.connection()
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
                acks[i] = Ack(reports[i].sequence, AckStatus.REJECTED, "agent is not enrolled")
            continue
        known = _stored_sequences(connection, agent_id, [reports[i] for i in indexes], mark.last_sequence)
        for i in sorted(indexes, key=lambda i: reports[i].sequence):
            acks[i] = _admit(mark, reports[i], known, now, rows)
    for table, values in ((_REPORTS, rows.reports), (_SAMPLES, rows.samples), (_GPU_SAMPLES, rows.gpus)):
        if values:
            connection.execute(insert(table), values)
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
    query = select(*columns).where(_MACHINES.c.agent_id.in_(agent_ids)).with_for_update()
    return {row.agent_id: _Watermark(*row) for row in connection.execute(query)}


def _stored_sequences(
    connection: Connection, agent_id: str, reports: list[IncomingReport], last: int
) -> set[int]:
    candidates = {r.sequence for r in reports if r.sequence <= last}
    if not candidates:
        return set()
    query = select(_REPORTS.c.sequence).where(
        _REPORTS.c.agent_id == agent_id, _REPORTS.c.sequence.in_(candidates)
    )
    return set(connection.scalars(query))


def _admit(
    machine: _Watermark,
    report: IncomingReport,
    known: set[int],
    now: datetime,
    rows: _Rows,
) -> Ack:
    """Decide one report's fate; on acceptance append its rows and advance the machine's watermark."""
    seq = report.sequence
    if seq in known:
        return Ack(seq, AckStatus.DUPLICATE)
    if seq <= machine.last_sequence:
        return _reject(machine, seq, f"sequence {seq} is not after the last stored {machine.last_sequence}")
    problem = validation_problem(report, now, machine.enrolled_at)
    if problem:
        return _reject(machine, seq, problem)
    samples, clamped_us = _clamp(report.samples, machine.last_report_end_us)
    rows.reports.append(
        {
            "agent_id": machine.agent_id,
            "sequence": seq,
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
    rows.add_samples(machine.agent_id, seq, samples)
    machine.last_sequence = seq
    machine.last_report_end_us = max(machine.last_report_end_us or 0, report.end_us)
    known.add(seq)
    if clamped_us:
        reason = f"{clamped_us} us overlapping the previous report were not counted (clock stepped back?)"
        logger.warning("agent %s report %d: %s", machine.agent_id, seq, reason)
        return Ack(seq, AckStatus.ACCEPTED, reason)
    return Ack(seq, AckStatus.ACCEPTED)


def _reject(machine: _Watermark, sequence: int, reason: str) -> Ack:
    logger.warning("agent %s report %d rejected: %s", machine.agent_id, sequence, reason)
    return Ack(sequence, AckStatus.REJECTED, reason)


def validation_problem(report: IncomingReport, now: datetime, enrolled_at: datetime) -> str | None:
    """Why `report` cannot be stored, or None when it is well formed and plausible."""
    if report.end_us <= report.start_us:
        return "report end is not after its start"
    if not report.samples:
        return "report has no samples"
    if len(report.samples) > MAX_SAMPLES_PER_REPORT:
        return f"report has {len(report.samples)} samples, more than {MAX_SAMPLES_PER_REPORT}"
    if report.end_us > to_us(now + MAX_FUTURE_SKEW):
        return f"report ends more than {MAX_FUTURE_SKEW} in the future"
    if report.start_us < to_us(enrolled_at - MAX_FUTURE_SKEW):
        return "report starts before the machine enrolled"
    previous_end = report.start_us
    for n, sample in enumerate(report.samples):
        if sample.end_us <= sample.start_us:
            return f"sample {n} ends before it starts"
        if sample.end_us - sample.start_us > MAX_SAMPLE_US:
            return f"sample {n} is longer than one hour"
        if sample.start_us < previous_end:
            return f"sample {n} overlaps the one before it or starts before the report"
        previous_end = sample.end_us
    if previous_end > report.end_us:
        return "samples extend past the report's end"
    return None


def _clamp(samples: tuple[IncomingSample, ...], last_end_us: int | None) -> tuple[list[IncomingSample], int]:
    """Cut time already covered (before last_end_us) off samples; counters stay. Return (samples, µs cut)."""
    if last_end_us is None or samples[0].start_us >= last_end_us:
        return list(samples), 0
    result, cut = [], 0
    for sample in samples:
        start = max(sample.start_us, last_end_us)
        end = max(sample.end_us, start)
        cut += (sample.end_us - sample.start_us) - (end - start)
        result.append(replace(sample, start_us=start, end_us=end))
    return result, cut


_SAMPLE_COLUMNS = [name for name in IncomingSample.__slots__ if name != "gpus"]
_GPU_COLUMNS = [name for name in IncomingGpu.__slots__ if name != "processes"]


@dataclass(slots=True)
class _Rows:
    """Rows of one batch, inserted together at its end."""

    reports: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    gpus: list[dict[str, Any]] = field(default_factory=list)

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
