"""The only place where the agent builds protobuf messages."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.timestamp_pb2 import Timestamp

from agent.facts import MachineFacts
from agent.identity import Identity
from agent.sampler import Login, SampleData
from protos.rentmeter.v1 import agent_pb2, common_pb2
from protos.signing import report_signing_bytes


def timestamp_us(micros: int) -> Timestamp:
    return Timestamp(seconds=micros // 1_000_000, nanos=(micros % 1_000_000) * 1000)


def us(ts: Timestamp) -> int:
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def sample_to_proto(s: SampleData) -> agent_pb2.Sample:
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
        gpus=[
            agent_pb2.GpuSample(
                index=g.index,
                uuid=g.uuid,
                utilization_percent=g.utilization_percent,
                memory_utilization_percent=g.memory_utilization_percent,
                memory_used_bytes=g.memory_used_bytes,
                memory_total_bytes=g.memory_total_bytes,
                power_mw=g.power_mw,
                energy_mj=g.energy_mj,
                processes=[agent_pb2.GpuProcess(pid=pid, used_memory_bytes=mem) for pid, mem in g.processes],
            )
            for g in s.gpus
        ],
    )


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
) -> agent_pb2.UsageReport:
    return agent_pb2.UsageReport(
        agent_id=agent_id,
        sequence=sequence,
        start=samples[0].start,
        end=samples[-1].end,
        samples=samples,
        logins=[
            agent_pb2.LoginSession(
                user=x.user, terminal=x.terminal, host=x.host, started=timestamp_us(x.started_us)
            )
            for x in logins
        ],
        boot_time=timestamp_us(boot_time_us),
    )


def sign_report(identity: Identity, report: agent_pb2.UsageReport) -> agent_pb2.SignedReport:
    """Serialize once and sign exactly those bytes (protobuf serialization is not canonical)."""
    payload = report.SerializeToString()
    return agent_pb2.SignedReport(
        agent_id=identity.agent_id, payload=payload, signature=identity.sign(report_signing_bytes(payload))
    )
