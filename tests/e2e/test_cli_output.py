"""What the `rentmeter` command line prints for scripts and pipes: `--output json` on every command that
prints the collector's answer, whole ids in tables, one line per `watch` update, rates written one way."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.config import AgentSettings
from collector.server import Collector
from protos.rentmeter.v1 import invoices_pb2, machines_pb2, sessions_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request
from tests.e2e.harness import rentmeter, wait_for


@dataclass(frozen=True)
class Rented:
    target: str
    agent_id: str
    session_id: str
    invoice: invoices_pb2.Invoice


@pytest.fixture
def rented(collector: Collector, admin: AdminClient, tmp_path: Path) -> Iterator[Rented]:
    """A collector with an enrolled machine (its agent running), a plan, a finished session invoiced,
    a wallet topped up and an API token."""
    target = f"127.0.0.1:{collector.port}"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    admin.plans.CreatePlan(plan_request("std", {"standard": "2.90"}, traffic_out="0.05"))
    settings = AgentSettings(
        collector=target, state_dir=tmp_path / "agent", interval=0.2, report_every=0.4, token=token
    )
    with running_agent(settings) as agent:
        agent_id = agent.identity.agent_id
        machine = machines_pb2.GetMachineRequest(agent_id=agent_id)
        wait_for(lambda: admin.machines.GetMachine(machine).online)
        session = admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=agent_id, renter="alice", plan="std")
        )
        time.sleep(1)
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session.session_id))
        (invoice,) = admin.invoices.CloseInvoices(
            invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
        ).invoices
        assert rentmeter("wallet", "topup", "bob", "5.00", collector=target).returncode == 0
        yield Rented(target, agent_id, session.session_id, invoice)


def _json(*args: str, collector: str) -> dict:  # type: ignore[type-arg]
    result = rentmeter(*args, "--output", "json", collector=collector)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.timeout(120)
def test_every_read_command_prints_the_collectors_answer_as_json(rented: Rented) -> None:
    at, agent, session = rented.target, rented.agent_id, rented.session_id
    invoice = rented.invoice.invoice_id
    assert [m["agent_id"] for m in _json("machines", "list", collector=at)["machines"]] == [agent]
    assert _json("machines", "show", agent, collector=at)["facts"]["hostname"]
    assert [p["name"] for p in _json("plan", "list", collector=at)["plans"]] == ["std"]
    assert _json("plan", "show", "std", collector=at)["currency"] == "EUR"
    assert [s["session_id"] for s in _json("session", "list", collector=at)["sessions"]] == [session]
    shown = _json("session", "show", session, collector=at)
    assert shown["state"] == "STOPPED" and shown["cost"]["currency"] == "EUR"
    assert int(_json("usage", "--session", session, collector=at)["covered_us"]) > 0
    assert _json("explain", session, collector=at)["session"]["session_id"] == session
    quote = _json("quote", "--plan", "std", "--duration", "2h", collector=at)
    assert quote["total"] == {"minor_units": "580", "currency": "EUR", "display": "5.80 EUR"}
    assert [i["number"] for i in _json("invoice", "list", collector=at)["invoices"]] == ["RM-000001"]
    assert _json("invoice", "show", invoice, collector=at)["lines"][0]["rate_unit"] == "h"
    assert _json("wallet", "show", "bob", collector=at)["balance"]["display"] == "5.00 EUR"
    assert _json("ledger", "check", collector=at)["balanced"] is True
    assert _json("renter", "show", "alice", collector=at)["renter"] == "alice"
    assert [t["label"] for t in _json("access", "list", collector=at)["tokens"]] == ["tests"]
    # Commands that change something print their answer too (`-o` is the short form).
    result = rentmeter("token", "create", "-o", "json", collector=at)
    assert json.loads(result.stdout)["token"].startswith("rmt_")


def test_tables_keep_ids_whole_in_a_pipe(rented: Rented) -> None:
    listed = rentmeter("session", "list", collector=rented.target)
    row = next(line for line in listed.stdout.splitlines() if "alice" in line)
    assert rented.session_id in row and rented.agent_id in row, listed.stdout
    invoices = rentmeter("invoice", "list", collector=rented.target).stdout
    row = next(line for line in invoices.splitlines() if "RM-000001" in line)
    assert rented.invoice.invoice_id in row, invoices


def test_rates_are_printed_one_way_everywhere(rented: Rented) -> None:
    """The hourly price is `2.90 EUR/h` in the plan, the quote, the invoice, the explanation and watch
    (which printed `2.90 EUR per hour`)."""
    at = rented.target
    assert "2.90 EUR/h" in rentmeter("plan", "show", "std", collector=at).stdout
    assert "2.90 EUR/h" in rentmeter("quote", "--plan", "std", "--duration", "1h", collector=at).stdout
    assert "2.90 EUR/h" in rentmeter("invoice", "show", rented.invoice.invoice_id, collector=at).stdout
    assert "2.90 EUR/h" in rentmeter("explain", rented.session_id, collector=at).stdout


@pytest.mark.timeout(90)
def test_watch_into_a_pipe_prints_one_line_per_update(rented: Rented, admin: AdminClient) -> None:
    """Rich's live view prints nothing into a pipe until it ends; a log or script needs every update."""
    session = admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=rented.agent_id, renter="carol", plan="std")
    )
    command = [sys.executable, "-m", "rentmeter", "--collector", rented.target, "watch", session.session_id]
    pipe = {"stdout": subprocess.PIPE, "text": True}
    with (
        subprocess.Popen(command, **pipe) as watch,
        subprocess.Popen([*command, "-o", "json"], **pipe) as as_json,
    ):
        assert watch.stdout is not None and as_json.stdout is not None
        lines = [watch.stdout.readline(), watch.stdout.readline()]  # two updates while the session runs
        objects = [json.loads(as_json.stdout.readline()) for _ in range(2)]
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session.session_id))
        assert watch.wait(30) == 0 and as_json.wait(30) == 0
    for line in lines:
        assert line.startswith("20") and f"session {session.session_id} open: cost " in line, lines
        assert line.rstrip().endswith("rate 2.90 EUR/h"), lines
    assert [o["session_id"] for o in objects] == [session.session_id] * 2
    assert objects[0]["rate_per_hour"]["display"] == "2.90 EUR"


def test_invoice_numbers_work_wherever_an_invoice_id_does(rented: Rented, tmp_path: Path) -> None:
    """`invoice list` shows the number (RM-000001) first: show, export, pay and credit take it too."""
    at, invoice_id = rented.target, rented.invoice.invoice_id
    shown = rentmeter("invoice", "show", "RM-000001", collector=at)
    assert shown.returncode == 0 and f"Invoice RM-000001 ({invoice_id})" in shown.stdout
    exported = rentmeter("invoice", "export", "RM-000001", "--format", "csv", "-o", str(tmp_path / "i.csv"),
                         collector=at)  # fmt: skip
    assert exported.returncode == 0 and rented.session_id in (tmp_path / "i.csv").read_text()
    paid = rentmeter("invoice", "pay", "RM-000001", "--reference", "SEPA-1", collector=at)
    assert paid.returncode == 0 and "paid 20" in paid.stdout
    # The whole of it (0.00 EUR for a second) is credited already: the collector found the invoice.
    credit = rentmeter("invoice", "credit", "RM-000001", "--reason", "goodwill", collector=at)
    assert credit.returncode == 1 and "invoice RM-000001 has 0.00 EUR left to credit" in credit.stderr
    missing = rentmeter("invoice", "show", "RM-000002", collector=at)
    assert missing.returncode == 1 and "invoice 'RM-000002' not found" in missing.stderr
