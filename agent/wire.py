"""The only place where the agent builds protobuf messages."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from agent import limits
from agent.facts import MachineFacts
from agent.identity import Identity
from agent.sampler import Login, SampleData
from agent.spool import Gap
from protos.rentmeter.v1 import agent_pb2, common_pb2
from protos.signing import report_signing_bytes


def timestamp_us(micros: int) -> Timestamp:
    return Timestamp(seconds=micros // 1_000_000, nanos=(micros % 1_000_000) * 1000)


def us(ts: Timestamp) -> int:
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def sample_to_proto(s: SampleData) -> agent_pb2.Sample:
    """The sample within the collector's bounds: at most MAX_GPUS_PER_SAMPLE GPUs, each with its
    MAX_PROCESSES_PER_GPU processes using the most memory."""
    return agent_pb2.Sample(
        start=timestamp_us(s.start_us),
        end=timestamp_us(s.end_us),
        cpu_busy_us=s.cpu_busy_us,
        cpu_utilization=s.cpu_utilization,
        memory_used_bytes=s.memory_used_bytes,
        memory_total_bytes=s.memory_total_bytes,
        disk_read_bytes=s.disk_read_bytes,
        disk_write_bytes=s.disk_write_bytes,
        net_rx_bytes=s.net_rx_bytes,
        net_tx_bytes=s.net_tx_bytes,
        host_energy_mj=s.host_energy_mj,
        gpus=[
            agent_pb2.GpuSample(
                index=g.index,
                uuid=g.uuid[: limits.MAX_UUID_CHARS],
                utilization_percent=g.utilization_percent,
                memory_utilization_percent=g.memory_utilization_percent,
                memory_used_bytes=g.memory_used_bytes,
                memory_total_bytes=g.memory_total_bytes,
                power_mw=g.power_mw,
                energy_mj=g.energy_mj,
                processes=[
                    agent_pb2.GpuProcess(pid=pid, used_memory_bytes=mem)
                    for pid, mem in _top_processes(g.processes)
                ],
            )
            for g in s.gpus[: limits.MAX_GPUS_PER_SAMPLE]
        ],
    )


def live_tick(agent_id: str, session_id: str, usage: SampleData) -> agent_pb2.SignedReport:
    """A live tick (not a report: unsigned, never acknowledged) of `usage` since the last sealed report."""
    tick = agent_pb2.LiveTick(rental_session_id=session_id, usage=sample_to_proto(usage))
    return agent_pb2.SignedReport(agent_id=agent_id, live_tick=tick)


def _top_processes(processes: tuple[tuple[int, int], ...]) -> Sequence[tuple[int, int]]:
    if len(processes) <= limits.MAX_PROCESSES_PER_GPU:
        return processes
    return sorted(processes, key=lambda p: p[1], reverse=True)[: limits.MAX_PROCESSES_PER_GPU]


def facts_to_proto(facts: MachineFacts) -> common_pb2.MachineFacts:
    return common_pb2.MachineFacts(
        hostname=facts.hostname,
        os=facts.os,
        cpu_model=facts.cpu_model,
        cpu_cores_logical=facts.cpu_cores_logical,
        cpu_cores_physical=facts.cpu_cores_physical,
        memory_bytes=facts.memory_bytes,
        gpus=[common_pb2.GpuFacts(name=g.name, uuid=g.uuid, memory_bytes=g.memory_bytes) for g in facts.gpus],
        boot_time=timestamp_us(facts.boot_time_us),
        agent_version=facts.agent_version,
    )


def build_report(
    agent_id: str,
    sequence: int,
    samples: Sequence[agent_pb2.Sample],
    logins: Sequence[Login],
    boot_time_us: int,
    gaps: Sequence[Gap] = (),
) -> agent_pb2.UsageReport:
    """A report within the collector's bounds: logins beyond MAX_LOGINS left out, their fields cut to
    MAX_LOGIN_FIELD_CHARS; `gaps` beyond MAX_GAPS_PER_REPORT must wait for the next report."""
    cut = limits.MAX_LOGIN_FIELD_CHARS
    return agent_pb2.UsageReport(
        agent_id=agent_id,
        sequence=sequence,
        start=samples[0].start,
        end=samples[-1].end,
        samples=samples,
        logins=[
            agent_pb2.LoginSession(
                user=x.user[:cut],
                terminal=x.terminal[:cut],
                host=x.host[:cut],
                started=timestamp_us(x.started_us),
            )
            for x in logins[: limits.MAX_LOGINS]
        ],
        boot_time=timestamp_us(boot_time_us),
        gaps=[gap_to_proto(gap) for gap in gaps],
    )


_GAP_KINDS = {
    "forged": agent_pb2.ReportGap.FORGED,
    "unreadable": agent_pb2.ReportGap.UNREADABLE,
    "spool_lost": agent_pb2.ReportGap.SPOOL_LOST,
}


def gap_to_proto(gap: Gap) -> agent_pb2.ReportGap:
    message = agent_pb2.ReportGap(
        kind=_GAP_KINDS.get(gap.kind, agent_pb2.ReportGap.KIND_UNSPECIFIED),
        sequence=gap.sequence or 0,
        reason=gap.reason[: limits.MAX_GAP_REASON_CHARS],
    )
    if gap.start_us is not None:
        message.start.CopyFrom(timestamp_us(gap.start_us))
    if gap.end_us is not None:
        message.end.CopyFrom(timestamp_us(gap.end_us))
    return message


def renumber(identity: Identity, sequence: int, envelope: bytes) -> bytes:
    """The spooled report `envelope` under a new sequence, signed again (the collector holds another
    report under its old one)."""
    report = agent_pb2.UsageReport.FromString(agent_pb2.SignedReport.FromString(envelope).payload)
    report.sequence = sequence
    return sign_report(identity, report).SerializeToString()


def time_range(envelope: bytes, now_us: int) -> tuple[int | None, int | None]:
    """The (start, end) a spooled report claims to cover, if its bytes still parse and the times are
    plausible (not verified: used only to describe a damaged report); (None, None) otherwise."""
    try:
        report = agent_pb2.UsageReport.FromString(agent_pb2.SignedReport.FromString(envelope).payload)
    except DecodeError:
        return None, None
    start, end = us(report.start), us(report.end)
    if not 0 < start <= end <= now_us:
        return None, None
    return start, end


def sign_report(identity: Identity, report: agent_pb2.UsageReport) -> agent_pb2.SignedReport:
    """Serialize once and sign exactly those bytes (protobuf serialization is not canonical)."""
    payload = report.SerializeToString()
    return agent_pb2.SignedReport(
        agent_id=identity.agent_id, payload=payload, signature=identity.sign(report_signing_bytes(payload))
    )
