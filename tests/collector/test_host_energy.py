"""Host CPU energy (RAPL) in signed reports is priced by the plan's energy meter, through the public API of
a real collector on SQLite and PostgreSQL, and re-rated the same from a dispute's evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from billing import simple_document
from collector.core.clock import to_us
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, disputes_pb2, invoices_pb2, plans_pb2, sessions_pb2
from tests.collector.clocked import T0, Scenario
from tests.collector.helpers import SECOND, sample, signed

# 36.00 EUR an hour of time (1 ct a second) and 36.00 EUR a kWh of energy.
PLAN = simple_document("energy", "EUR", {"standard": "36.00"}, "", "") + (
    '\n[[prices]]\nmeter = "energy"\nper = "kWh"\nprice = "36.00"\n'
)


def test_host_cpu_energy_is_priced_as_energy(scenario: Scenario) -> None:
    admin, machine = scenario.admin, scenario.machine()
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PLAN))
    scenario.clock.now = T0
    request = sessions_pb2.StartSessionRequest(agent_id=machine.agent_id, renter="r", plan="energy")
    session_id = admin.sessions.StartSession(request).session_id
    scenario.clock.now = T0 + timedelta(minutes=10)
    base = to_us(T0) / SECOND
    # 600 one-second samples, the CPU packages drawing 100 W: 100 J = 100,000 mJ each.
    samples = [replace(sample(base + i, base + i + 1), host_energy_mj=100_000) for i in range(600)]
    envelopes = [signed(machine, n + 1, samples[i : i + 60]) for n, i in enumerate(range(0, 600, 60))]
    acks = agent_pb2_grpc.AgentServiceStub(scenario.channel).StreamReports(iter(envelopes), timeout=20)
    assert {a.status for r in acks for a in r.acks} == {agent_pb2.ReportAck.ACCEPTED}
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    close = invoices_pb2.CloseInvoicesRequest(renter="r", invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    amounts = {line.meter: line.amount.minor_units for line in invoice.lines}
    # 600 s at 1 ct = 6.00; 60,000 J = 1/60 kWh at 36.00 = 0.60; total 6.60 EUR.
    assert amounts == {"time": 600, "energy": 60}
    assert invoice.total.minor_units == 660
    line = [line.meter for line in invoice.lines].index("energy")
    dispute = admin.disputes.OpenDispute(
        disputes_pb2.OpenDisputeRequest(invoice_id=invoice.number, line=line, reason="too much energy")
    )
    assert dispute.rerated.minor_units == 60  # the evidence counts the host's energy the same
