"""Building signed reports the way an agent does, for collector tests."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import billing
from agent.identity import Identity
from agent.sampler import SampleData
from agent.wire import build_report, sample_to_proto, sign_report
from collector.api.wire import report_from_proto
from collector.db.database import Database
from collector.metering.ingest import IncomingReport
from protos.rentmeter.v1 import agent_pb2, plans_pb2

SECOND = 1_000_000


def sample(start_s: float, end_s: float, rx: int = 0, tx: int = 0) -> SampleData:
    return SampleData(
        start_us=int(start_s * SECOND),
        end_us=int(end_s * SECOND),
        cpu_busy_us=1000,
        cpu_utilization=0.1,
        memory_used_bytes=1,
        memory_total_bytes=2,
        disk_read_bytes=3,
        disk_write_bytes=4,
        net_rx_bytes=rx,
        net_tx_bytes=tx,
    )


def signed(identity: Identity, sequence: int, samples: list[SampleData]) -> agent_pb2.SignedReport:
    report = build_report(identity.agent_id, sequence, [sample_to_proto(s) for s in samples], [], 0)
    return sign_report(identity, report)


def incoming(identity: Identity, sequence: int, samples: list[SampleData]) -> IncomingReport:
    envelope = signed(identity, sequence, samples)
    return report_from_proto(envelope, agent_pb2.UsageReport.FromString(envelope.payload))


def new_identity(agent_id: str = "") -> Identity:
    return Identity(agent_id, "standard", Ed25519PrivateKey.generate())


def plan_request(
    name: str,
    hourly: dict[str, str],
    *,
    currency: str = "EUR",
    traffic_in: str = "",
    traffic_out: str = "",
    increment: str = "",
    minimum: str = "",
) -> plans_pb2.CreatePlanRequest:
    """CreatePlan for a plain price list (hourly rate per class, traffic per GB)."""
    document = billing.simple_document(
        name, currency, hourly, traffic_in, traffic_out, increment=increment, minimum=minimum
    )
    return plans_pb2.CreatePlanRequest(document=document)


def enrolled_machine(database: Database, at: datetime) -> Identity:
    """A machine of class "standard" enrolled at `at` with a fresh key, stored in `database`."""
    from datetime import timedelta

    from agent.identity import public_key_bytes
    from collector.metering.enrollment import create_token, enroll

    owner = new_identity()
    token, _ = database.call(create_token, machine_class="standard", ttl=timedelta(hours=1), label="", now=at)
    row = database.call(enroll, token=token, public_key=public_key_bytes(owner.key), facts={}, now=at)
    return Identity(row.agent_id, "standard", owner.key)
