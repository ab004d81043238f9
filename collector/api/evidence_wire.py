"""The wire contract an evidence check needs (collector/invoicing/evidence_check.py): the bytes an agent
signs, and a signed payload decoded into the samples the check re-rates."""

from __future__ import annotations

from google.protobuf.message import DecodeError

from collector.invoicing.evidence_check import DecodedReport, Sampled
from protos.rentmeter.v1 import agent_pb2
from protos.signing import report_signing_bytes


class ProtobufReading:
    """Reports as agents sign them: protobuf UsageReport payloads (protos/signing.py)."""

    def signing_bytes(self, payload: bytes) -> bytes:
        return report_signing_bytes(payload)

    def decode(self, payload: bytes) -> DecodedReport | None:
        try:
            report = agent_pb2.UsageReport.FromString(payload)
        except DecodeError:
            return None
        return DecodedReport(report.agent_id, report.sequence, tuple(_sampled(s) for s in report.samples))


def _sampled(s: agent_pb2.Sample) -> Sampled:
    """A sample as the database stores and counts it (collector/metering/usage.py)."""
    start = s.start.seconds * 1_000_000 + s.start.nanos // 1000
    end = s.end.seconds * 1_000_000 + s.end.nanos // 1000
    gpus = tuple((g.uuid, end - start, g.energy_mj) for g in s.gpus)
    memory = (s.memory_used_bytes // 1000) * ((end - start) // 1000)
    gpu_percent = max((min(g.utilization_percent, 100) for g in s.gpus), default=0)
    return Sampled(start, end, s.cpu_busy_us, s.net_rx_bytes, s.net_tx_bytes, memory, gpus, s.cpu_utilization,
                   gpu_percent)  # fmt: skip


READING = ProtobufReading()
