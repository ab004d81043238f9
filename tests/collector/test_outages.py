"""Confidence on invoice lines, billed short gaps and automatic outage credits, through the public API of
a real collector (its clock set by the test) on SQLite and PostgreSQL; amounts computed by hand."""

from __future__ import annotations

from datetime import timedelta

from billing import simple_document
from collector.sessions.rating import rate_sessions
from protos.rentmeter.v1 import fleet_pb2, invoices_pb2, plans_pb2, sessions_pb2
from tests.collector.clocked import T0, Scenario

MINUTE = timedelta(minutes=1)
# 36.00 EUR an hour: one cent a second.
PLAN = simple_document("assured", "EUR", {"standard": "36.00"}, "", "") + (
    '\n[assurance]\nbill_gaps_shorter_than = "60s"\nsla_outage_longer_than = "5m"\nsla_credit = "0.5"\n'
)


def _rent_with_an_outage(scenario: Scenario, plan: str) -> tuple[str, invoices_pb2.Invoice]:
    """A 30-minute session: reports for 10 min, 30 s silent, 4 min 30 s of reports, a 10-minute outage,
    5 minutes of reports; then invoiced."""
    admin, machine = scenario.admin, scenario.machine()
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=plan))
    scenario.clock.now = T0
    request = sessions_pb2.StartSessionRequest(agent_id=machine.agent_id, renter="r", plan="assured")
    session_id = admin.sessions.StartSession(request).session_id
    scenario.clock.now = T0 + 30 * MINUTE
    scenario.report(machine, T0, 600)
    scenario.report(machine, T0 + timedelta(seconds=630), 270, per_report=30)
    scenario.report(machine, T0 + 25 * MINUTE, 300)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    scenario.collector.database.call(rate_sessions, scenario.clock.now)  # the rating job, once
    rated = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    scenario.rated_cost = rated.cost.minor_units
    close = invoices_pb2.CloseInvoicesRequest(renter="r", invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    return session_id, invoice


def test_an_outage_gives_a_gap_line_and_an_automatic_credit(scenario: Scenario) -> None:
    session_id, invoice = _rent_with_an_outage(scenario, PLAN)
    lines = {line.meter: line for line in invoice.lines}
    assert list(lines) == ["time", "sla", "gap"]
    # Reports cover 600 + 270 + 300 = 1170 s; the 30 s gap is shorter than 60 s: billed, 1200 s at 1 ct.
    time = lines["time"]
    assert (time.quantity, time.amount.minor_units, time.basis) == ("1200", 1200, "measured")
    assert (time.covered_us, time.uncovered_us) == (1170 * 10**6, 630 * 10**6)
    # The 10-minute outage: 600 s at 1 ct, credited at 0.5 x = 3.00 EUR.
    sla = lines["sla"]
    assert (sla.quantity, sla.amount.minor_units, sla.basis) == ("600", -300, "adjusted")
    assert "machine silent 600 s" in sla.description
    gap = lines["gap"]
    assert (gap.quantity, gap.amount.minor_units, gap.basis, gap.uncovered_us) == (
        "630",
        0,
        "gap",
        630 * 10**6,
    )
    assert gap.description == (
        "no reports for 630 s (2 gaps): 30 s in gaps shorter than 60 s billed as rental time,"
        " 600 s not billed"
    )
    assert invoice.total.minor_units == 1200 - 300
    live = scenario.admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    assert live.cost.minor_units == scenario.rated_cost == 900  # the rating job's cost is the invoice's
    # The host sees the deduction in its earnings, and the outage's times in the session's explanation.
    earnings = scenario.admin.fleet.GetEarnings(fleet_pb2.GetEarningsRequest(
        agent_id=live.agent_id, start=invoice.period_start, end=invoice.period_end
    ))  # fmt: skip
    assert [row.invoiced.minor_units for row in earnings.rows] == [900]
    explained = scenario.admin.sessions.ExplainSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    (credit,) = [c for c in explained.charges if c.meter == "sla"]
    assert "2026-11-30T10:15:00+00:00 to 2026-11-30T10:25:00+00:00" in credit.description


def test_without_assurance_rules_gaps_are_shown_and_not_billed(scenario: Scenario) -> None:
    plain = PLAN.split("\n[assurance]")[0]
    _, invoice = _rent_with_an_outage(scenario, plain)
    lines = {line.meter: line for line in invoice.lines}
    assert list(lines) == ["time", "gap"]
    assert (lines["time"].quantity, lines["time"].amount.minor_units) == ("1170", 1170)
    assert lines["gap"].description == "no reports for 630 s (2 gaps): 630 s not billed"
    document = scenario.admin.invoices.RenderInvoice(
        invoices_pb2.RenderInvoiceRequest(invoice_id=invoice.invoice_id, format="csv")
    ).content.decode()
    assert "measured, 1170 s covered, 630 s not" in document
    assert "gap, 630 s without reports" in document
