"""Usage of a machine over a time window, aggregated in the database.

Covered time is the sum of each sample's overlap with the window; this is the union of covered time
because ingest guarantees that one machine's stored samples never overlap. Counters (CPU, bytes) belong
to the window that contains their sample's start, so splitting a span into windows never loses or
repeats a byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ColumnExpressionArgument,
    Select,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

import billing
from collector.db.models import GpuSample, Sample
from collector.metering.ingest import MAX_SAMPLE_US


@dataclass(frozen=True, slots=True)
class GpuUsage:
    gpu_index: int
    uuid: str
    average_utilization_percent: float  # weighted by sample duration
    energy_mj: int
    peak_memory_used_bytes: int
    attached_us: int = 0  # time covered by this GPU's samples


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
    memory_kb_ms: int = 0  # used memory integrated over time, in KB x ms
    gpus: tuple[GpuUsage, ...] = ()
    host_energy_mj: int = 0  # CPU packages (RAPL), of samples starting inside

    def billable(self, gpu_models: dict[str, str] | None = None) -> billing.Usage:
        """The usage as the billing engine meters it; `gpu_models` maps GPU uuid to model name."""
        gpu_us: dict[str, int] = {}
        for gpu in self.gpus:
            model = (gpu_models or {}).get(gpu.uuid) or "GPU"
            gpu_us[model] = gpu_us.get(model, 0) + gpu.attached_us
        return billing.Usage(
            covered_us=self.covered_us,
            net_rx_bytes=self.net_rx_bytes,
            net_tx_bytes=self.net_tx_bytes,
            cpu_busy_us=self.cpu_busy_us,
            memory_byte_us=self.memory_kb_ms * 1_000_000,
            energy_mj=self.host_energy_mj + sum(gpu.energy_mj for gpu in self.gpus),
            gpu_us=gpu_us,
        )


def usage_summary(
    db: Session, agent_id: str, start_us: int, end_us: int, *, with_gpus: bool = True
) -> UsageSummary:
    """Aggregate the samples of `agent_id` over [start_us, end_us); `with_gpus=False` skips the GPU
    query (for machines that reported no GPU)."""
    if end_us <= start_us:
        return UsageSummary(agent_id, start_us, end_us)
    params = {
        "agent_id": agent_id,
        "start_us": start_us,
        "end_us": end_us,
        "lookback_us": start_us - MAX_SAMPLE_US,
    }
    row = db.execute(_SAMPLES_QUERY, params).one()
    gpus = []
    for index, uuid, busy, total, energy, peak in db.execute(_GPU_QUERY, params) if with_gpus else ():
        average = float(busy) / float(total) if total else 0.0
        gpus.append(GpuUsage(index, uuid, average, int(energy), int(peak), int(total or 0)))
    covered, cpu, rx, tx, read, write, peak, count, memory, host_energy = (int(value) for value in row)
    return UsageSummary(
        agent_id, start_us, end_us, covered, cpu, rx, tx, read, write, peak, count, memory, gpus=tuple(gpus),
        host_energy_mj=host_energy,
    )  # fmt: skip


def _samples_query() -> Select[*tuple[Any, ...]]:
    """Totals over [:start_us, :end_us): covered time by overlap, counters of samples starting inside.
    Built once: the rating jobs run it per session segment."""
    start_us: BindParameter[int] = bindparam("start_us")
    end_us: BindParameter[int] = bindparam("end_us")
    starts_inside = Sample.start_us >= start_us

    def counted(column: ColumnExpressionArgument[Any]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((starts_inside, column), else_=0)), 0)

    overlap_end = case((Sample.end_us < end_us, Sample.end_us), else_=end_us)
    overlap_start = case((Sample.start_us > start_us, Sample.start_us), else_=start_us)
    return select(
        func.coalesce(func.sum(case((overlap_end > overlap_start, overlap_end - overlap_start), else_=0)), 0),
        counted(Sample.cpu_busy_us),
        counted(Sample.net_rx_bytes),
        counted(Sample.net_tx_bytes),
        counted(Sample.disk_read_bytes),
        counted(Sample.disk_write_bytes),
        func.coalesce(func.max(Sample.memory_used_bytes), 0),
        func.coalesce(func.sum(case((starts_inside, 1), else_=0)), 0),
        # KB x ms keeps the product inside 64 bits even for hour-long compacted samples of large machines.
        counted((Sample.memory_used_bytes / 1000) * ((Sample.end_us - Sample.start_us) / 1000)),
        counted(Sample.host_energy_mj),
    ).where(
        Sample.agent_id == bindparam("agent_id"),
        Sample.start_us >= bindparam("lookback_us"),
        Sample.start_us < end_us,
        Sample.end_us >= start_us,
    )


def _gpu_query() -> Select[*tuple[Any, ...]]:
    """Per GPU, over the samples that start inside [:start_us, :end_us)."""
    duration = GpuSample.end_us - GpuSample.start_us
    return (
        select(
            GpuSample.gpu_index,
            GpuSample.uuid,
            func.sum(GpuSample.utilization_percent * duration),
            func.sum(duration),
            func.sum(GpuSample.energy_mj),
            func.max(GpuSample.memory_used_bytes),
        )
        .where(
            GpuSample.agent_id == bindparam("agent_id"),
            GpuSample.start_us >= bindparam("start_us"),
            GpuSample.start_us < bindparam("end_us"),
        )
        .group_by(GpuSample.gpu_index, GpuSample.uuid)
        .order_by(GpuSample.gpu_index)
    )


_SAMPLES_QUERY = _samples_query()
_GPU_QUERY = _gpu_query()
