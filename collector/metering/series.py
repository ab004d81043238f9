"""Usage of a machine in back-to-back steps, for charts, aggregated in the database: one query for the
samples and one for the GPUs, whatever the number of steps.

The rules of usage.py hold per step, so the steps of a span add up to its summary: covered time is the
exact overlap of the samples with the step (a sample that crosses step boundaries is split at them), and
counters (CPU busy time, traffic, GPU energy) belong to the step holding their sample's start. Peak memory
is the highest of the samples overlapping the step.

CPU utilisation is busy time over the time of the samples that start in the step, divided by the machine's
logical cores (its facts at enrollment): the same samples on both sides, so a sample longer than a step
cannot push a step above 1. A machine whose facts name no cores gets its samples' own utilisation,
weighted by their duration.

Samples of one machine never overlap (ingest guarantees it), so each step boundary is crossed by at most
one sample: the query returns the steps' totals plus at most one row per step for those crossing samples,
whose overlap with later steps is added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, BindParameter, Select, bindparam, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from collector.core.errors import InvalidArgument
from collector.db.models import GpuSample, Sample
from collector.metering.bounds import MAX_SAMPLE_US
from collector.metering.usage import GpuUsage

MAX_POINTS = 1000
DEFAULT_POINTS = 120
SECOND_US = 1_000_000


@dataclass
class UsagePoint:
    start_us: int
    covered_us: int = 0
    cpu_utilization: float = 0.0  # 0..1 of all cores
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    peak_memory_used_bytes: int = 0
    gpus: tuple[GpuUsage, ...] = ()
    # What cpu_utilization is made of: busy µs, µs of the samples starting here, their own utilisation
    # integrated over their duration.
    _busy_us: int = field(default=0, repr=False)
    _started_us: int = field(default=0, repr=False)
    _weighted: float = field(default=0.0, repr=False)


def default_step_us(span_us: int) -> int:
    """The span in about DEFAULT_POINTS steps, rounded to whole seconds, at least one second."""
    return max(SECOND_US, round(span_us / DEFAULT_POINTS / SECOND_US) * SECOND_US)


def usage_series(
    db: Session, agent_id: str, start_us: int, end_us: int, step_us: int, cores: int
) -> list[UsagePoint]:
    """One point per step of `step_us` from `start_us` (the last step ends at `end_us`); InvalidArgument
    for an empty span, a step that is not positive or more than MAX_POINTS points."""
    if end_us <= start_us:
        raise InvalidArgument("end must be after start")
    if step_us <= 0:
        raise InvalidArgument("step must be positive")
    count = -(-(end_us - start_us) // step_us)
    if count > MAX_POINTS:
        raise InvalidArgument(
            f"{count} steps of {step_us / SECOND_US:g} s: at most {MAX_POINTS} points, choose a longer step"
        )
    points = [UsagePoint(start_us + i * step_us) for i in range(count)]
    params = {"agent_id": agent_id, "start_us": start_us, "end_us": end_us, "step_us": step_us}
    for kind, index, *values in db.execute(_samples_query(), params):
        if kind == 0:
            covered, busy, rx, tx, started, peak = (int(v or 0) for v in values[:6])
            _add_totals(points[int(index)], covered, busy, rx, tx, started, peak, float(values[6] or 0.0))
        else:
            begin, finish, memory = (int(v) for v in values[7:])
            _spread(points, int(index), step_us, end_us, begin, finish, memory)
    gpus = _gpus(db, params)
    for point in points:
        point.cpu_utilization = _cpu(point, cores)
        point.gpus = tuple(gpus.get(_step(point, start_us, step_us), ()))
    return points


def _add_totals(
    point: UsagePoint, covered: int, busy: int, rx: int, tx: int, started: int, peak: int, weighted: float
) -> None:
    point.covered_us += covered
    point._busy_us, point.net_rx_bytes, point.net_tx_bytes = busy, rx, tx
    point._started_us, point._weighted = started, weighted
    point.peak_memory_used_bytes = max(point.peak_memory_used_bytes, peak)


def _spread(
    points: list[UsagePoint], first: int, step_us: int, end_us: int, begin: int, finish: int, memory: int
) -> None:
    """Add a sample's overlap with the steps after its first (where the totals counted it) to them."""
    finish = min(finish, end_us)
    index = first + 1
    while index < len(points) and points[index].start_us < finish:
        point = points[index]
        point.covered_us += min(finish, point.start_us + step_us, end_us) - max(begin, point.start_us)
        point.peak_memory_used_bytes = max(point.peak_memory_used_bytes, memory)
        index += 1


def _cpu(point: UsagePoint, cores: int) -> float:
    if not point._started_us:
        return 0.0
    share = point._busy_us / (point._started_us * cores) if cores > 0 else point._weighted / point._started_us
    return min(1.0, max(0.0, share))


def _step(point: UsagePoint, start_us: int, step_us: int) -> int:
    return (point.start_us - start_us) // step_us


def _samples_query() -> Select[Any]:
    """Per step (by index): covered time inside the sample's first step, counters of the samples starting
    in it, peak memory, and the samples' own utilisation integrated; then (kind 1) each sample that goes on
    past its first step, with its start, end and memory."""
    start, end, step = _param("start_us"), _param("end_us"), _param("step_us")
    inside = Sample.start_us >= start
    duration = Sample.end_us - Sample.start_us
    samples = (
        select(case((inside, (Sample.start_us - start) // step), else_=0).label("i"),
               Sample.start_us.label("s"), Sample.end_us.label("e"), Sample.memory_used_bytes.label("memory"),
               case((inside, Sample.cpu_busy_us), else_=0).label("busy"),
               case((inside, Sample.net_rx_bytes), else_=0).label("rx"),
               case((inside, Sample.net_tx_bytes), else_=0).label("tx"),
               case((inside, duration), else_=0).label("started"),
               case((inside, Sample.cpu_utilization * duration), else_=0.0).label("weighted"))
        .where(Sample.agent_id == bindparam("agent_id"), Sample.start_us >= start - MAX_SAMPLE_US,
               Sample.start_us < end, Sample.end_us > start)
        .subquery()
    )  # fmt: skip
    steps = select(samples, _least(start + (samples.c.i + 1) * step, end).label("step_end")).subquery()
    c = steps.c
    totals = select(
        literal(0).label("kind"), c.i, func.sum(_least(c.e, c.step_end) - _greatest(c.s, start)),
        func.sum(c.busy), func.sum(c.rx), func.sum(c.tx), func.sum(c.started), func.max(c.memory),
        func.sum(c.weighted), literal(0).label("s"), literal(0).label("e"), literal(0).label("memory"),
    ).group_by(c.i)  # fmt: skip
    crossing = select(
        literal(1), c.i, literal(0), literal(0), literal(0), literal(0), literal(0), literal(0), literal(0.0),
        c.s, c.e, c.memory,
    ).where(c.e > c.step_end)  # fmt: skip
    return union_all(totals, crossing)  # type: ignore[return-value]  # a compound select runs like a select


def _gpus(db: Session, params: dict[str, Any]) -> dict[int, list[GpuUsage]]:
    """Per step index, each GPU's samples that start in it: utilisation weighted by duration, energy,
    peak memory, attached time."""
    start, step = _param("start_us"), _param("step_us")
    duration = GpuSample.end_us - GpuSample.start_us
    rows = (
        select(((GpuSample.start_us - start) // step).label("i"), GpuSample.gpu_index, GpuSample.uuid,
               (GpuSample.utilization_percent * duration).label("busy"), duration.label("duration"),
               GpuSample.energy_mj, GpuSample.memory_used_bytes)
        .where(GpuSample.agent_id == bindparam("agent_id"), GpuSample.start_us >= start,
               GpuSample.start_us < _param("end_us"))
        .subquery()
    )  # fmt: skip
    query = (
        select(rows.c.i, rows.c.gpu_index, rows.c.uuid, func.sum(rows.c.busy), func.sum(rows.c.duration),
               func.sum(rows.c.energy_mj), func.max(rows.c.memory_used_bytes))
        .group_by(rows.c.i, rows.c.gpu_index, rows.c.uuid)
        .order_by(rows.c.i, rows.c.gpu_index)
    )  # fmt: skip
    found: dict[int, list[GpuUsage]] = {}
    for index, gpu, uuid, busy, total, energy, peak in db.execute(query, params):
        average = float(busy) / float(total) if total else 0.0
        found.setdefault(int(index), []).append(
            GpuUsage(gpu, uuid, average, int(energy), int(peak), int(total))
        )
    return found


def _param(name: str) -> BindParameter[int]:
    return bindparam(name, type_=BigInteger)


def _least(a: Any, b: Any) -> Any:
    return case((a < b, a), else_=b)


def _greatest(a: Any, b: Any) -> Any:
    return case((a > b, a), else_=b)
