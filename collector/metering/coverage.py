"""Where a machine's stored samples leave a stretch of time uncovered: the gaps behind a session's "gap"
line, its billed short gaps and its outage credits (billing/confidence.py).

Also the spans of its idle samples, behind a session's idle discount (billing/idle.py).

One machine's stored samples never overlap (ingest), so a gap is a stretch between one sample's end and
the next one's start, or before the first and after the last sample inside the stretch. The database
finds them with a window function (LAG) and returns only the gaps, not the samples.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from billing.confidence import Gap
from collector.core.clock import from_us
from collector.db.models import GpuSample, Sample
from collector.metering.bounds import MAX_SAMPLE_US


def _inner_gaps_query() -> Select[int, int]:
    inside = (
        select(
            Sample.start_us.label("start_us"),
            func.lag(Sample.end_us).over(order_by=Sample.start_us).label("previous_end"),
        )
        .where(
            Sample.agent_id == bindparam("agent_id"),
            Sample.start_us >= bindparam("lookback_us"),
            Sample.start_us < bindparam("end_us"),
            Sample.end_us > bindparam("start_us"),
        )
        .subquery()
    )
    return (
        select(inside.c.previous_end, inside.c.start_us)
        .where(inside.c.previous_end < inside.c.start_us)
        .order_by(inside.c.start_us)
    )


def _edges_query() -> Select[int, int]:
    return select(func.min(Sample.start_us), func.max(Sample.end_us)).where(
        Sample.agent_id == bindparam("agent_id"),
        Sample.start_us >= bindparam("lookback_us"),
        Sample.start_us < bindparam("end_us"),
        Sample.end_us > bindparam("start_us"),
    )


_INNER_GAPS = _inner_gaps_query()
_EDGES = _edges_query()


def uncovered(db: Session, agent_id: str, start_us: int, end_us: int) -> list[Gap]:
    """The gaps in the machine's samples over [start_us, end_us), in time order."""
    if end_us <= start_us:
        return []
    params = {"agent_id": agent_id, "start_us": start_us, "end_us": end_us,
              "lookback_us": start_us - MAX_SAMPLE_US}  # fmt: skip
    first, last = db.execute(_EDGES, params).one()
    if first is None:
        return [Gap(from_us(start_us), from_us(end_us))]
    spans = [(start_us, int(first))] if first > start_us else []
    spans += [(int(a), int(b)) for a, b in db.execute(_INNER_GAPS, params) if a > start_us]
    if last < end_us:
        spans.append((int(last), end_us))
    return [Gap(from_us(max(a, start_us)), from_us(min(b, end_us))) for a, b in spans if a < b]


def idle_spans(
    db: Session, agent_id: str, start_us: int, end_us: int, below_percent: float
) -> list[tuple[datetime, datetime]]:
    """The spans, inside [start_us, end_us), of the machine's samples in which the CPU and every GPU were
    busy less than `below_percent` % (billing/idle.py)."""
    busy_gpu = (
        select(GpuSample.id)
        .where(
            GpuSample.agent_id == Sample.agent_id,
            GpuSample.start_us == Sample.start_us,
            GpuSample.utilization_percent >= below_percent,
        )
        .exists()
    )
    query = (
        select(Sample.start_us, Sample.end_us)
        .where(
            Sample.agent_id == agent_id,
            Sample.start_us >= start_us,
            Sample.start_us < end_us,
            Sample.cpu_utilization * 100 < below_percent,
            ~busy_gpu,
        )
        .order_by(Sample.start_us)
    )
    return [(from_us(a), from_us(min(b, end_us))) for a, b in db.execute(query)]
