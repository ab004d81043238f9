"""Usage of a machine over a time window, aggregated in the database.

Covered time is the sum of each sample's overlap with the window; this is the union of covered time
because ingest guarantees that one machine's stored samples never overlap. Counters (CPU, bytes) belong
to the window that contains their sample's start, so splitting a span into windows never loses or
repeats a byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

import billing
from collector.db.models import Sample
from collector.ingest import MAX_SAMPLE_US


@dataclass(frozen=True, slots=True)
class UsageSummary:
    agent_id: str
    start_us: int
    end_us: int
    covered_us: int = 0
    cpu_busy_us: int = 0
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    disk_read_bytes: int = 0
    disk_write_bytes: int = 0
    peak_memory_used_bytes: int = 0
    sample_count: int = 0

    def billable(self) -> billing.Usage:
        return billing.Usage(self.covered_us, self.net_rx_bytes, self.net_tx_bytes)


def usage_summary(db: Session, agent_id: str, start_us: int, end_us: int) -> UsageSummary:
    """Aggregate the samples of `agent_id` over [start_us, end_us)."""
    if end_us <= start_us:
        return UsageSummary(agent_id, start_us, end_us)
    starts_inside = Sample.start_us >= start_us

    def counted(column):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(case((starts_inside, column), else_=0)), 0)

    overlap_end = case((Sample.end_us < end_us, Sample.end_us), else_=end_us)
    overlap_start = case((Sample.start_us > start_us, Sample.start_us), else_=start_us)
    query = select(
        func.coalesce(func.sum(case((overlap_end > overlap_start, overlap_end - overlap_start), else_=0)), 0),
        counted(Sample.cpu_busy_us),
        counted(Sample.net_rx_bytes),
        counted(Sample.net_tx_bytes),
        counted(Sample.disk_read_bytes),
        counted(Sample.disk_write_bytes),
        func.coalesce(func.max(Sample.memory_used_bytes), 0),
        func.coalesce(func.sum(case((starts_inside, 1), else_=0)), 0),
    ).where(
        Sample.agent_id == agent_id,
        Sample.start_us >= start_us - MAX_SAMPLE_US,
        Sample.start_us < end_us,
        Sample.end_us >= start_us,
    )
    row = db.execute(query).one()
    return UsageSummary(agent_id, start_us, end_us, *(int(value) for value in row))
