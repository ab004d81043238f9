"""Disputes through the public API of a real collector on SQLite and PostgreSQL: a renter disputes a line,
its evidence verifies offline with `rentmeter verify-evidence` (and a tampered bundle does not), the
provider credits or rejects, and everything is audited."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.identity import public_key_bytes
from billing import simple_document
from collector.accounts.tokens import create_api_token
from collector.core.clock import to_us
from collector.db.database import Database
from collector.invoicing.invoices import close_invoices
from collector.metering.ingest import store_reports
from collector.metering.retention import purge_raw_data
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session, stop_session
from protos.rentmeter.v1 import agent_pb2, audit_pb2, disputes_pb2, invoices_pb2
from rentmeter.client import AdminClient
from tests.collector.clocked import Scenario
from tests.collector.helpers import SECOND, enrolled_machine, incoming, sample
from tests.collector.test_outages import PLAN, _rent_with_an_outage


def _client(scenario: Scenario, role: str, subject: str) -> AdminClient:
    token = scenario.collector.database.call(create_api_token, role, subject, "tests", scenario.clock.now)
    return AdminClient.connect(f"127.0.0.1:{scenario.collector.port}", token)


def _verify(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rentmeter", "verify-evidence", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _open(scenario: Scenario) -> tuple[AdminClient, invoices_pb2.Invoice, disputes_pb2.Dispute]:
    _, invoice = _rent_with_an_outage(scenario, PLAN)
    renter = _client(scenario, "renter", "r")
    request = disputes_pb2.OpenDisputeRequest(
        invoice_id=invoice.number, line=0, reason="the machine froze for ten minutes"
    )
    return renter, invoice, renter.disputes.OpenDispute(request)


def test_a_disputed_lines_evidence_verifies_offline_and_a_tampered_one_fails(
    scenario: Scenario, tmp_path: Path
) -> None:
    renter, invoice, dispute = _open(scenario)
    assert (dispute.status, dispute.line_amount.minor_units, dispute.line_description) == (
        "open",
        1200,
        invoice.lines[0].description,
    )
    # 600 s in 10 reports, 270 s in 9, 300 s in 5: all 24 signed reports; re-rated exactly as invoiced.
    assert (dispute.report_count, dispute.rerated.minor_units) == (24, 1200)
    got = renter.disputes.GetDispute(
        disputes_pb2.GetDisputeRequest(dispute_id=dispute.dispute_id, with_evidence=True)
    )
    good = tmp_path / got.evidence_filename
    good.write_bytes(got.evidence)
    checked = _verify(good)
    assert checked.returncode == 0, checked.stderr
    assert "24 signed reports verify with the machine's key, no sequence number missing" in checked.stdout
    assert "line as invoiced: 12.00 EUR; re-rated from the evidence: 12.00 EUR" in checked.stdout
    assert "session in the invoice's period, re-rated: 9.00 EUR" in checked.stdout  # 12.00 - 3.00 credit

    bundle = json.loads(got.evidence)
    altered = json.loads(got.evidence)
    report = agent_pb2.UsageReport.FromString(base64.b64decode(altered["reports"][3]["payload"]))
    report.samples[0].net_rx_bytes += 10**9
    altered["reports"][3]["payload"] = base64.b64encode(report.SerializeToString()).decode()
    dropped = json.loads(got.evidence)
    del dropped["reports"][5]
    rekeyed = json.loads(got.evidence)
    other = public_key_bytes(Ed25519PrivateKey.generate())
    rekeyed["machine"]["public_key"] = base64.b64encode(other).decode()
    cases = [(altered, "error: report 4 was altered or signed by another key"),
             (dropped, "error: report 6 is missing"),
             (rekeyed, "error: report 1 was altered or signed by another key")]  # fmt: skip
    for number, (variant, sentence) in enumerate(cases):
        path = tmp_path / f"bad-{number}.json"
        path.write_text(json.dumps(variant))
        failed = _verify(path)
        assert failed.returncode == 1
        assert sentence in failed.stderr
        assert "does not verify: do not trust it" in failed.stderr
        assert "re-rated" not in failed.stdout
    first = agent_pb2.UsageReport.FromString(base64.b64decode(bundle["reports"][0]["payload"]))
    assert (first.agent_id, first.sequence) == (bundle["machine"]["agent_id"], 1)  # the bytes as signed
    assert bundle["line"] == {**bundle["line"], "meter": "time", "amount_minor": 1200, "basis": "measured"}


def test_the_provider_credits_or_rejects_and_everything_is_audited(scenario: Scenario) -> None:
    renter, invoice, dispute = _open(scenario)
    again = disputes_pb2.OpenDisputeRequest(invoice_id=invoice.invoice_id, line=0, reason="twice")
    with pytest.raises(grpc.RpcError) as twice:
        renter.disputes.OpenDispute(again)
    assert twice.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already disputed" in twice.value.details()
    resolve = disputes_pb2.ResolveDisputeRequest(
        dispute_id=dispute.dispute_id, decision="credit", amount="2.00", reason="frozen screen confirmed"
    )
    with pytest.raises(grpc.RpcError) as not_yours:
        renter.disputes.ResolveDispute(resolve)
    assert not_yours.value.code() == grpc.StatusCode.PERMISSION_DENIED
    credited = scenario.admin.disputes.ResolveDispute(resolve)
    assert (credited.status, credited.resolution) == ("credited", "frozen screen confirmed")
    notes = renter.invoices.ListCreditNotes(
        invoices_pb2.ListCreditNotesRequest(invoice_id=invoice.invoice_id)
    )
    (note,) = notes.credit_notes
    assert (note.number, note.amount.minor_units) == (credited.credit_note_number, 200)
    gap_line = disputes_pb2.OpenDisputeRequest(invoice_id=invoice.number, line=2, reason="I was there")
    second = renter.disputes.OpenDispute(gap_line)
    rejected = scenario.admin.disputes.ResolveDispute(disputes_pb2.ResolveDisputeRequest(
        dispute_id=second.dispute_id, decision="reject", reason="no reports: nothing was billed"
    ))  # fmt: skip
    assert (rejected.status, rejected.credit_note_number) == ("rejected", "")
    listed = renter.disputes.ListDisputes(disputes_pb2.ListDisputesRequest())
    assert {d.dispute_id: d.status for d in listed.disputes} == {
        dispute.dispute_id: "credited",
        second.dispute_id: "rejected",
    }
    stranger = _client(scenario, "renter", "someone-else")
    with pytest.raises(grpc.RpcError) as hidden:
        stranger.disputes.GetDispute(disputes_pb2.GetDisputeRequest(dispute_id=dispute.dispute_id))
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    entries = scenario.admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(action="dispute."))
    assert sorted(e.action for e in entries.entries) == [
        "dispute.open",
        "dispute.open",
        "dispute.resolve",
        "dispute.resolve",
    ]
    assert scenario.admin.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest()).intact


def test_an_invoice_cannot_be_disputed_after_its_window(scenario: Scenario) -> None:
    _, invoice = _rent_with_an_outage(scenario, PLAN)
    renter = _client(scenario, "renter", "r")
    scenario.clock.advance(timedelta(days=30, minutes=1))
    request = disputes_pb2.OpenDisputeRequest(invoice_id=invoice.number, line=0, reason="late")
    with pytest.raises(grpc.RpcError) as late:
        renter.disputes.OpenDispute(request)
    assert late.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "dispute window of 30 days" in late.value.details()
    with pytest.raises(grpc.RpcError) as empty:
        renter.disputes.OpenDispute(disputes_pb2.OpenDisputeRequest(invoice_id=invoice.number, line=9))
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_retention_keeps_the_reports_of_invoices_that_can_still_be_disputed(database: Database) -> None:
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    machine = enrolled_machine(database, start - timedelta(hours=1))
    plan = (
        simple_document("p", "EUR", {"standard": "36.00"}, "", "") + '\n[assurance]\ndispute_window = "10d"\n'
    )
    database.call(create_plan, plan, start - timedelta(hours=1))
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r", plan_name="p", now=start)
    reports = [incoming(machine, 1 + n, [sample(to_us(start) / SECOND + n, to_us(start) / SECOND + n + 1)])
               for n in range(60)]  # fmt: skip
    database.call(store_reports, reports, start + timedelta(minutes=1))
    database.call(stop_session, rental.id, start + timedelta(minutes=1))
    database.call(close_invoices, start + timedelta(hours=2), period=timedelta(hours=1), grace=timedelta(0))
    day = timedelta(days=1)
    # Raw data is kept a day, but the invoice can be disputed for ten: its reports stay until then.
    assert database.call(purge_raw_data, start + 9 * day, day).produced == 0
    assert database.call(purge_raw_data, start + 11 * day, day).produced == 60 + 60  # samples and reports


def _cli(scenario: Scenario, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "rentmeter",
        "--collector",
        f"127.0.0.1:{scenario.collector.port}",
        *args,
    ]
    env = {**os.environ, "RENTMETER_TOKEN": token}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)


def test_disputes_from_the_command_line(scenario: Scenario, tmp_path: Path) -> None:
    _, invoice = _rent_with_an_outage(scenario, PLAN)
    database, now = scenario.collector.database, scenario.clock.now
    renter = database.call(create_api_token, "renter", "r", "tests", now)
    admin = database.call(create_api_token, "admin", "", "tests", now)
    shown = _cli(scenario, renter, "invoice", "show", invoice.number, "-o", "json")
    assert [line["basis"] for line in json.loads(shown.stdout)["lines"]] == ["measured", "adjusted", "gap"]
    opened = _cli(
        scenario, renter, "disputes", "open", invoice.number, "0", "--reason", "froze", "-o", "json"
    )
    assert opened.returncode == 0, opened.stderr
    dispute_id = json.loads(opened.stdout)["dispute_id"]
    listed = _cli(scenario, renter, "disputes", "list")
    assert dispute_id in listed.stdout and "open" in listed.stdout
    saved = tmp_path / "evidence.json"
    kept = _cli(scenario, renter, "disputes", "evidence", dispute_id, "-o", str(saved))
    assert kept.returncode == 0 and "24 signed reports" in kept.stdout
    assert _verify(saved).returncode == 0
    refused = _cli(scenario, renter, "disputes", "resolve", dispute_id, "reject", "--reason", "no")
    assert refused.returncode == 1 and "PERMISSION_DENIED" in refused.stderr
    rejected = _cli(
        scenario, admin, "disputes", "resolve", dispute_id, "reject", "--reason", "the reports agree"
    )
    assert (
        rejected.returncode == 0 and "rejected" in rejected.stdout and "the reports agree" in rejected.stdout
    )
    again = _cli(scenario, admin, "disputes", "resolve", dispute_id, "credit", "--reason", "changed my mind")
    assert again.returncode == 1 and f"dispute {dispute_id} is already rejected" in again.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    unreadable = _verify(garbage)
    assert unreadable.returncode == 2 and "not an evidence bundle" in unreadable.stderr
