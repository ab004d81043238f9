"""The rest of what the portal reads over real gRPC: fleet and earnings scoped to a host, alerts of refused
reports, the audit log (pages, filters, verification), renters, credit notes and payments, plan previews."""

from __future__ import annotations

import time

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from sqlalchemy import text

from agent.identity import Identity
from collector.server import Collector
from protos.rentmeter.v1 import (
    access_pb2,
    audit_pb2,
    fleet_pb2,
    invoices_pb2,
    machines_pb2,
    plans_pb2,
    renters_pb2,
    sessions_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.helpers import new_identity, plan_request, sample, signed
from tests.collector.test_services import enroll, stream


def client_of(collector: Collector, admin: AdminClient, role: str, subject: str) -> AdminClient:
    token = admin.access.CreateApiToken(access_pb2.CreateApiTokenRequest(role=role, subject=subject)).token
    return AdminClient.connect(f"127.0.0.1:{collector.port}", token)


def test_hosts_see_their_own_fleet_and_earnings(
    collector: Collector, admin: AdminClient, channel: grpc.Channel
) -> None:
    h1, h2 = client_of(collector, admin, "host", "h1"), client_of(collector, admin, "host", "h2")
    token = h1.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    mine, theirs = enroll(channel, admin, token), enroll(channel, admin)
    admin.plans.CreatePlan(plan_request("p", {"standard": "36.00"}))
    for machine, renter in ((mine, "alice"), (theirs, "bob")):
        start = sessions_pb2.StartSessionRequest(agent_id=machine.agent_id, renter=renter, plan="p")
        begun = admin.sessions.StartSession(start).started_at
        t = begun.seconds + begun.nanos / 1e9
        stream(channel, [signed(machine, 1, [sample(t, t + 1)])])
    assert [m.machine.agent_id for m in h1.fleet.GetFleet(fleet_pb2.GetFleetRequest(host="h2")).machines] == [
        mine.agent_id
    ]  # a host's filter is its own, whatever it asks
    assert h2.fleet.GetFleet(fleet_pb2.GetFleetRequest()).machines == []
    everything = admin.fleet.GetFleet(fleet_pb2.GetFleetRequest())
    assert {m.renter for m in everything.machines} == {"alice", "bob"}
    assert [(c.machine_class, c.online, c.rented) for c in everything.classes] == [("standard", 2, 2)]
    assert [m.display for m in everything.revenue_per_hour] == ["72.00 EUR"]
    one = admin.fleet.GetFleet(fleet_pb2.GetFleetRequest(host="h1")).machines[0]
    assert (one.session_id != "", one.rate_per_hour.display, one.cpu_utilization) == (True, "36.00 EUR", 0.1)
    time.sleep(1.5)  # the rating job prices the reported second
    earned = h1.fleet.GetEarnings(fleet_pb2.GetEarningsRequest(period="week", time_zone="Asia/Shanghai"))
    assert [(r.agent_id, r.sessions, r.rented_seconds, r.uninvoiced.display) for r in earned.rows] == [
        (mine.agent_id, 1, 1.0, "0.01 EUR")
    ]
    assert [t.display for t in earned.totals] == ["0.01 EUR"]
    for request in (
        fleet_pb2.GetEarningsRequest(time_zone="Mars/Olympus"),
        fleet_pb2.GetEarningsRequest(period="fortnight"),
    ):
        with pytest.raises(grpc.RpcError) as bad:
            h1.fleet.GetEarnings(request)
        assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as hidden:
        h2.fleet.GetEarnings(fleet_pb2.GetEarningsRequest(agent_id=mine.agent_id))
    assert hidden.value.code() is grpc.StatusCode.NOT_FOUND
    h1.close()
    h2.close()


def test_refused_reports_are_alerts_for_every_collector(
    collector: Collector, admin: AdminClient, channel: grpc.Channel
) -> None:
    identity = enroll(channel, admin)
    forger = Identity(identity.agent_id, "standard", new_identity().key)
    t = time.time() - 5
    stream(channel, [signed(forger, 1, [sample(t, t + 1)]), signed(forger, 2, [sample(t + 1, t + 2)])])
    with collector.database.engine.connect() as db:  # in the database, not only in this process' metrics
        kept = db.execute(text("SELECT sequence, status, kind FROM report_rejections ORDER BY id")).all()
    assert [tuple(row) for row in kept] == [(1, "forged", "bad_signature"), (2, "forged", "bad_signature")]
    (alert,) = admin.fleet.ListAlerts(fleet_pb2.ListAlertsRequest()).alerts
    assert (alert.kind, alert.subject, alert.count) == ("reports_rejected", identity.agent_id, 2)


def test_the_audit_log_in_pages_with_filters_and_verified(collector: Collector, admin: AdminClient) -> None:
    for n in range(5):
        admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter=f"r{n}"))
    admin.plans.CreatePlan(plan_request("p", {"standard": "1"}))
    newest = admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(limit=2)).entries
    assert [e.action for e in newest] == ["PlanService/CreatePlan", "RenterService/UpdateRenter"]
    older = admin.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(before_id=newest[-1].id, limit=100)
    )
    assert [e.id for e in older.entries] == sorted((e.id for e in older.entries), reverse=True)
    assert all(e.id < newest[-1].id for e in older.entries)
    renters = admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(action="RenterService/"))
    assert len(renters.entries) == 5 and all(e.actor == "admin" for e in renters.entries)
    assert admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(actor="host:")).entries == []
    assert (
        admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(action="%")).entries == []
    )  # no LIKE
    intact = admin.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())
    assert (intact.intact, intact.entries, intact.broken_at) == (True, 6, 0)  # verifying is not audited
    with collector.database.engine.begin() as db:
        db.execute(text("UPDATE audit_log SET details = '{}' WHERE id = :id"), {"id": newest[-1].id})
    broken = admin.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())
    assert (broken.intact, broken.broken_at) == (False, newest[-1].id) and "edited" in broken.reason


def test_renters_credit_notes_and_payments_lists(
    collector: Collector, admin: AdminClient, channel: grpc.Channel
) -> None:
    for name in ("ann", "anton", "bea", "100%"):
        admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter=name))
    page = admin.renters.ListRenters(renters_pb2.ListRentersRequest(limit=2)).renters
    assert [r.renter for r in page] == ["100%", "ann"]
    rest = admin.renters.ListRenters(renters_pb2.ListRentersRequest(after="ann")).renters
    assert [r.renter for r in rest] == ["anton", "bea"]
    found = admin.renters.ListRenters(renters_pb2.ListRentersRequest(query="an")).renters
    assert [r.renter for r in found] == ["ann", "anton"]
    assert [
        r.renter for r in admin.renters.ListRenters(renters_pb2.ListRentersRequest(query="%")).renters
    ] == ["100%"]
    identity = enroll(channel, admin)
    admin.plans.CreatePlan(plan_request("p", {"standard": "3600"}))  # 1.00 EUR a second
    rental = admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter="ann", plan="p")
    )
    begun = rental.started_at.seconds + rental.started_at.nanos / 1e9
    stream(channel, [signed(identity, 1, [sample(begun, begun + 3)])])
    time.sleep(0.5)  # at least 0.50 EUR of it inside the session
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="ann", invoice_now=True)
    ).invoices
    admin.invoices.CreditInvoice(
        invoices_pb2.CreditInvoiceRequest(invoice_id=invoice.number, amount="0.10", reason="late")
    )
    admin.invoices.CreditInvoice(
        invoices_pb2.CreditInvoiceRequest(invoice_id=invoice.number, amount="0.10", reason="slow")
    )
    admin.invoices.PayInvoice(invoices_pb2.PayInvoiceRequest(invoice_id=invoice.number, reference="SEPA-7"))
    ann, bea = client_of(collector, admin, "renter", "ann"), client_of(collector, admin, "renter", "bea")
    notes = ann.invoices.ListCreditNotes(invoices_pb2.ListCreditNotesRequest()).credit_notes
    assert [n.reason for n in notes] == ["slow", "late"]
    by_number = admin.invoices.ListCreditNotes(invoices_pb2.ListCreditNotesRequest(invoice_id=invoice.number))
    assert [n.number for n in by_number.credit_notes] == ["CN-000002", "CN-000001"]
    assert bea.invoices.ListCreditNotes(invoices_pb2.ListCreditNotesRequest(renter="ann")).credit_notes == []
    (paid,) = ann.invoices.ListPayments(
        invoices_pb2.ListPaymentsRequest(invoice_id=invoice.invoice_id)
    ).payments
    assert (paid.invoice_number, paid.renter, paid.provider, paid.reference, paid.succeeded) == (
        invoice.number, "ann", "manual", "SEPA-7", True,
    )  # fmt: skip
    assert bea.invoices.ListPayments(invoices_pb2.ListPaymentsRequest()).payments == []
    assert admin.invoices.ListPayments(invoices_pb2.ListPaymentsRequest(failed_only=True)).payments == []
    with pytest.raises(grpc.RpcError) as hidden:
        bea.invoices.ListPayments(invoices_pb2.ListPaymentsRequest(invoice_id=invoice.number))
    assert hidden.value.code() is grpc.StatusCode.NOT_FOUND
    ann.close()
    bea.close()


PREVIEW = """name = "night"
currency = "EUR"
effective_from = 2030-01-01T00:00:00Z
[time.hourly]
standard = "2.00"
"""


def test_a_plan_document_is_previewed_with_a_quote_and_never_stored(admin: AdminClient) -> None:
    request = plans_pb2.QuoteRequest(
        document=PREVIEW, machine_class="standard", duration=Duration(seconds=5400)
    )
    quote = admin.plans.Quote(request)
    assert (quote.plan, quote.total.display, quote.start.ToJsonString()) == (
        "night", "3.00 EUR", "2030-01-01T00:00:00Z",
    )  # fmt: skip  # from its effective_from: before it, the plan is not in force
    assert admin.plans.ListPlans(plans_pb2.ListPlansRequest()).plans == []
    broken = plans_pb2.QuoteRequest(document=PREVIEW.replace('"2.00"', '"two"'), machine_class="standard",
                                    duration=Duration(seconds=60))  # fmt: skip
    with pytest.raises(grpc.RpcError) as refused:
        admin.plans.Quote(broken)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == "invalid price plan: <plan>:5: standard: 'two' is not a decimal number"
    wallet_only = admin.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest())
    assert wallet_only.transactions == 0  # a quote changes nothing
