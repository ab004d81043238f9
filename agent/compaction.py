"""Coarsening spooled reports when the spool is full: back-to-back samples become one sample per minute
(or per hour, once they are minutes), with every counter summed, so no billable second or byte is lost."""

from __future__ import annotations

from collections.abc import Sequence

from agent.identity import Identity
from agent.limits import MAX_GAPS_PER_REPORT, MAX_SAMPLES_PER_REPORT
from agent.wire import sign_report, us
from protos.rentmeter.v1 import agent_pb2

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000
_SUMMED = (
    "cpu_busy_us",
    "disk_read_bytes",
    "disk_write_bytes",
    "net_rx_bytes",
    "net_tx_bytes",
    "host_energy_mj",
)


def bucket_for(samples: Sequence[agent_pb2.Sample]) -> int:
    """One minute, unless the samples are already a minute or longer: then one hour."""
    longest = max(us(s.end) - us(s.start) for s in samples)
    return MINUTE_US if longest < MINUTE_US else HOUR_US


def coarsen(samples: Sequence[agent_pb2.Sample], bucket_us: int) -> list[agent_pb2.Sample]:
    """Merge runs of back-to-back samples that start in the same bucket. Gaps are kept as gaps."""
    merged: list[agent_pb2.Sample] = []
    for sample in samples:
        last = merged[-1] if merged else None
        if (
            last is not None
            and us(last.end) == us(sample.start)
            and us(last.start) // bucket_us == us(sample.start) // bucket_us
        ):
            _absorb(last, sample)
        else:
            copy = agent_pb2.Sample()
            copy.CopyFrom(sample)
            merged.append(copy)
    return merged


def _absorb(into: agent_pb2.Sample, sample: agent_pb2.Sample) -> None:
    before = us(into.end) - us(into.start)
    added = us(sample.end) - us(sample.start)
    if before + added:
        into.cpu_utilization = (into.cpu_utilization * before + sample.cpu_utilization * added) / (
            before + added
        )
    for name in _SUMMED:
        setattr(into, name, getattr(into, name) + getattr(sample, name))
    into.memory_used_bytes = max(into.memory_used_bytes, sample.memory_used_bytes)
    into.memory_total_bytes = sample.memory_total_bytes
    gpus = {g.index: g for g in into.gpus}
    for gpu in sample.gpus:
        if gpu.index not in gpus:
            gpus[gpu.index] = into.gpus.add()
            gpus[gpu.index].CopyFrom(gpu)
            continue
        merged = gpus[gpu.index]
        for name in ("utilization_percent", "memory_utilization_percent", "power_mw"):
            total = getattr(merged, name) * before + getattr(gpu, name) * added
            setattr(merged, name, round(total / (before + added)) if before + added else 0)
        merged.energy_mj += gpu.energy_mj
        merged.memory_used_bytes = max(merged.memory_used_bytes, gpu.memory_used_bytes)
        merged.memory_total_bytes = gpu.memory_total_bytes
        del merged.processes[:]
        merged.processes.extend(gpu.processes)
    into.end.CopyFrom(sample.end)


def merge_reports(identity: Identity, sequence: int, envelopes: Sequence[bytes]) -> bytes:
    """One signed report, numbered `sequence`, holding the coarsened samples of `envelopes` (oldest first)
    and the gaps they told; within the collector's bounds on samples and gaps."""
    reports = [
        agent_pb2.UsageReport.FromString(agent_pb2.SignedReport.FromString(e).payload) for e in envelopes
    ]
    samples = [s for r in reports for s in r.samples]
    coarse = coarsen(samples, bucket_for(samples))
    if len(coarse) > MAX_SAMPLES_PER_REPORT:
        coarse = coarsen(coarse, HOUR_US)
    latest = reports[-1]
    merged = agent_pb2.UsageReport(
        agent_id=identity.agent_id,
        sequence=sequence,
        start=reports[0].start,
        end=latest.end,
        samples=coarse,
        logins=latest.logins,
        boot_time=latest.boot_time,
        gaps=_bounded_gaps([g for r in reports for g in r.gaps]),
    )
    return sign_report(identity, merged).SerializeToString()


def _bounded_gaps(gaps: list[agent_pb2.ReportGap]) -> list[agent_pb2.ReportGap]:
    if len(gaps) <= MAX_GAPS_PER_REPORT:
        return gaps
    rest = len(gaps) - MAX_GAPS_PER_REPORT + 1
    summary = agent_pb2.ReportGap(reason=f"{rest} more gaps, told in reports merged when the spool was full")
    return [*gaps[: MAX_GAPS_PER_REPORT - 1], summary]
