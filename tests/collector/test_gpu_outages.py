"""An automatic service credit when a GPU of the session's machine stops answering while the machine keeps
reporting: samples read by the agent's GPU sampler (fake NVML), signed and streamed to a real collector
(its clock set by the test), on SQLite and PostgreSQL; the credit computed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from agent.gpu import GpuSampler
from agent.identity import Identity, public_key_bytes
from billing import simple_document
from collector.core.clock import to_us
from protos.rentmeter.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    common_pb2,
    disputes_pb2,
    fleet_pb2,
    invoices_pb2,
    machines_pb2,
    plans_pb2,
    sessions_pb2,
)
from tests.agent.fake_nvml import FakeGpu, FakeNvml
from tests.collector.clocked import T0, Scenario
from tests.collector.helpers import SECOND, new_identity, sample, signed

MINUTE = timedelta(minutes=1)
PLAN = simple_document("gpu-sla", "EUR", {"standard": "36.00"}, "", "") + (  # one cent a second
    '\n[assurance]\nsla_outage_longer_than = "5m"\nsla_credit = "0.5"\n'
)
GPUS = [FakeGpu(uuid="GPU-a"), FakeGpu(uuid="GPU-b")]


def _enroll_with_gpus(scenario: Scenario) -> Identity:
    token = scenario.admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    owner = new_identity()
    facts = common_pb2.MachineFacts(
        hostname="box",
        gpus=[common_pb2.GpuFacts(name=str(g.name), uuid=g.uuid, memory_bytes=g.total) for g in GPUS],
    )
    response = agent_pb2_grpc.AgentServiceStub(scenario.channel).Enroll(
        agent_pb2.EnrollRequest(token=token, public_key=public_key_bytes(owner.key), facts=facts)
    )
    return Identity(response.agent_id, response.machine_class, owner.key)


def _report(
    scenario: Scenario, machine: Identity, sampler: GpuSampler, start: datetime, seconds: int
) -> None:
    """One-second samples with the GPU sampler's readings, 60 to a signed report, streamed."""
    base = to_us(start) / SECOND
    samples = [replace(sample(base + i, base + i + 1), gpus=tuple(sampler.sample())) for i in range(seconds)]
    envelopes = []
    for first in range(0, seconds, 60):
        scenario.sequences[machine.agent_id] = number = scenario.sequences.get(machine.agent_id, 0) + 1
        envelopes.append(signed(machine, number, samples[first : first + 60]))
    stub = agent_pb2_grpc.AgentServiceStub(scenario.channel)
    acks = [a for r in stub.StreamReports(iter(envelopes), timeout=20) for a in r.acks]
    assert {a.status for a in acks} == {agent_pb2.ReportAck.ACCEPTED}, acks


def test_a_gpu_missing_for_10_minutes_is_credited(scenario: Scenario) -> None:
    admin = scenario.admin
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PLAN))
    machine = _enroll_with_gpus(scenario)
    gpus = [replace(g) for g in GPUS]
    sampler = GpuSampler(FakeNvml(gpus))
    scenario.clock.now = T0
    request = sessions_pb2.StartSessionRequest(agent_id=machine.agent_id, renter="r", plan="gpu-sla")
    session_id = admin.sessions.StartSession(request).session_id
    scenario.clock.now = T0 + 30 * MINUTE
    _report(scenario, machine, sampler, T0, 600)  # both GPUs for 10 minutes
    gpus[1].lost = True
    _report(scenario, machine, sampler, T0 + 10 * MINUTE, 600)  # GPU-b lost for 10 minutes
    gpus[1].lost = False
    _report(scenario, machine, sampler, T0 + 20 * MINUTE, 180)  # back: 3 minutes
    gpus[1].lost = True
    _report(scenario, machine, sampler, T0 + 23 * MINUTE, 120)  # lost 2 minutes: below the 5-minute rule
    gpus[1].lost = False
    _report(scenario, machine, sampler, T0 + 25 * MINUTE, 300)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    close = invoices_pb2.CloseInvoicesRequest(renter="r", invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    lines = {line.meter: line for line in invoice.lines}
    # 1800 s reported at 1 ct = 18.00 EUR; GPU-b missing 600 s (10:10-10:20) credited 0.5 x 600 ct = -3.00.
    assert {m: line.amount.minor_units for m, line in lines.items()} == {"time": 1800, "sla_gpu": -300}
    credit = lines["sla_gpu"]
    assert (credit.quantity, credit.basis) == ("600", "adjusted")
    assert credit.description == (
        "service credit: GPU missing 600 s during the session (GPU-b from 2026-11-30T10:10:00+00:00"
        " to 2026-11-30T10:20:00+00:00), credited 0.5 x its price"
    )
    assert invoice.total.minor_units == 1500
    live = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    assert live.cost.minor_units == 1500
    earnings = admin.fleet.GetEarnings(fleet_pb2.GetEarningsRequest(
        agent_id=machine.agent_id, start=invoice.period_start, end=invoice.period_end
    ))  # fmt: skip
    assert [row.invoiced.minor_units for row in earnings.rows] == [1500]  # the host sees the deduction
    line = [line.meter for line in invoice.lines].index("sla_gpu")
    dispute = admin.disputes.OpenDispute(
        disputes_pb2.OpenDisputeRequest(invoice_id=invoice.number, line=line, reason="GPU gone longer")
    )
    assert dispute.rerated.minor_units == -300  # the evidence re-rates the credit the same
