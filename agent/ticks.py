"""Live ticks: the samples taken since the last sealed report, added up into one.

While a rental session is open the agent sends, with every sample, what the machine used since its last
sealed report (agent.proto LiveTick), so that the renter's live cost moves within a second or two instead of
waiting for the next report. The collector only shows a tick; the signed report of the same samples is what
is billed. Adding up is O(1) per sample: the running total is kept, not the samples.
"""

from __future__ import annotations

from agent.gpu import GpuReading
from agent.sampler import SampleData


def add_up(total: SampleData | None, sample: SampleData) -> SampleData:
    """`total` (samples back to back, or None) followed by `sample`: counters and energy add up, memory,
    power and processes are the latest readings, utilizations are averaged over time."""
    if total is None:
        return sample
    before, after = total.end_us - total.start_us, sample.end_us - sample.start_us
    return SampleData(
        start_us=total.start_us,
        end_us=sample.end_us,
        cpu_busy_us=total.cpu_busy_us + sample.cpu_busy_us,
        cpu_utilization=_mean(total.cpu_utilization, before, sample.cpu_utilization, after),
        memory_used_bytes=sample.memory_used_bytes,
        memory_total_bytes=sample.memory_total_bytes,
        disk_read_bytes=total.disk_read_bytes + sample.disk_read_bytes,
        disk_write_bytes=total.disk_write_bytes + sample.disk_write_bytes,
        net_rx_bytes=total.net_rx_bytes + sample.net_rx_bytes,
        net_tx_bytes=total.net_tx_bytes + sample.net_tx_bytes,
        gpus=_add_gpus(total.gpus, before, sample.gpus, after),
    )


def _mean(a: float, a_us: int, b: float, b_us: int) -> float:
    return (a * a_us + b * b_us) / (a_us + b_us) if a_us + b_us > 0 else b


def _add_gpus(
    total: tuple[GpuReading, ...], before: int, latest: tuple[GpuReading, ...], after: int
) -> tuple[GpuReading, ...]:
    """The latest GPUs, each with its energy added to what it used before and its utilization averaged."""
    earlier = {gpu.uuid: gpu for gpu in total}
    added = []
    for gpu in latest:
        old = earlier.get(gpu.uuid)
        if old is None:
            added.append(gpu)
            continue
        utilization = round(_mean(old.utilization_percent, before, gpu.utilization_percent, after))
        memory = round(_mean(old.memory_utilization_percent, before, gpu.memory_utilization_percent, after))
        added.append(
            GpuReading(
                index=gpu.index,
                uuid=gpu.uuid,
                utilization_percent=utilization,
                memory_utilization_percent=memory,
                memory_used_bytes=gpu.memory_used_bytes,
                memory_total_bytes=gpu.memory_total_bytes,
                power_mw=gpu.power_mw,
                energy_mj=old.energy_mj + gpu.energy_mj,
                processes=gpu.processes,
            )
        )
    return tuple(added)
