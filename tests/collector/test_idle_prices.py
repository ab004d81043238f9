"""Idle-aware prices through the public API of a real collector (its clock set by the test), on SQLite and
PostgreSQL, with hand-computed amounts; and the idle discount re-rated from a dispute's evidence."""

from __future__ import annotations

from datetime import timedelta

from billing import simple_document
from protos.rentmeter.v1 import disputes_pb2, invoices_pb2, plans_pb2, sessions_pb2
from tests.collector.clocked import T0, Scenario

MINUTE = timedelta(minutes=1)
# 36.00 EUR an hour (one cent a second); idle beyond 10 minutes costs half.
PLAN = simple_document("idle-aware", "EUR", {"standard": "36.00"}, "", "") + (
    '\n[idle]\nbelow = "5"\nafter = "10m"\nrate = "0.5"\n'
)


def test_an_idle_renter_gets_the_idle_rate_after_the_threshold(scenario: Scenario) -> None:
    admin, machine = scenario.admin, scenario.machine()
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PLAN))
    scenario.clock.now = T0
    request = sessions_pb2.StartSessionRequest(agent_id=machine.agent_id, renter="r", plan="idle-aware")
    session_id = admin.sessions.StartSession(request).session_id
    scenario.clock.now = T0 + 30 * MINUTE
    scenario.report(machine, T0, 300, cpu=0.5)  # 5 minutes busy
    scenario.report(machine, T0 + 5 * MINUTE, 1200, cpu=0.01)  # 20 minutes idle (1 % < 5 %)
    scenario.report(machine, T0 + 25 * MINUTE, 300, cpu=0.5)  # 5 minutes busy
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="r", invoice_now=True)
    ).invoices
    lines = {line.meter: line for line in invoice.lines}
    assert list(lines) == ["time", "idle"]
    # 1800 s at 1 ct = 18.00 EUR; idle 20 min, the last 10 of them at half price: 600 s x 0.5 ct = 3.00 off.
    assert (lines["time"].amount.minor_units, lines["idle"].amount.minor_units) == (1800, -300)
    assert (lines["idle"].quantity, lines["idle"].basis) == ("600", "adjusted")
    assert (
        lines["idle"].description
        == "idle discount: 600 s idle beyond 600 s (CPU and GPUs below 5 %), at x0.5"
    )
    assert invoice.total.minor_units == 1500
    live = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    assert live.cost.minor_units == 1500
    # Disputing the idle line: the evidence re-rates it to the same discount.
    dispute = admin.disputes.OpenDispute(
        disputes_pb2.OpenDisputeRequest(invoice_id=invoice.number, line=1, reason="I was idle longer")
    )
    assert dispute.rerated.minor_units == -300
