"""A real collector on loopback with a real SQLite file, this machine's real agent, a rental billed.

The expected bill is computed here independently: straight from the signed report payloads in the
database file (read with sqlite3, not the collector's code), with exact Fractions.
"""

from __future__ import annotations

import sqlite3
import time
from fractions import Fraction
from pathlib import Path

import pytest

from agent.config import AgentSettings
from agent.runner import open_channel, rotate_key
from agent.spool import SPOOL_FILE, Spool
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2, invoices_pb2, machines_pb2, sessions_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request
from tests.e2e.harness import rentmeter, wait_for

RATES = {"hour": Fraction("123.45"), "in": Fraction("7.50"), "out": Fraction("9.10")}


def _micros(ts) -> int:  # type: ignore[no-untyped-def]
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def _cents(value: Fraction) -> int:
    return int(value * 100 + Fraction(1, 2))


def expected_lines(db_file: Path, agent_id: str, start_us: int, end_us: int) -> dict[str, int]:
    covered, rx, tx = 0, 0, 0
    with sqlite3.connect(db_file) as db:
        payloads = [
            row[0] for row in db.execute("SELECT payload FROM reports WHERE agent_id = ?", (agent_id,))
        ]
    for payload in payloads:
        for s in agent_pb2.UsageReport.FromString(payload).samples:
            a, b = _micros(s.start), _micros(s.end)
            covered += max(0, min(b, end_us) - max(a, start_us))
            if start_us <= a < end_us:
                rx, tx = rx + s.net_rx_bytes, tx + s.net_tx_bytes
    return {
        "time": _cents(Fraction(covered, 10**6) * RATES["hour"] / 3600),
        "traffic_in": _cents(Fraction(rx, 10**9) * RATES["in"]),
        "traffic_out": _cents(Fraction(tx, 10**9) * RATES["out"]),
    }


@pytest.mark.timeout(90)
def test_a_rental_is_billed_exactly_for_covered_seconds_and_bytes(
    collector: Collector, admin: AdminClient, tmp_path: Path
) -> None:
    target = f"127.0.0.1:{collector.port}"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    admin.plans.CreatePlan(plan_request("e2e", {"standard": "123.45"}, traffic_in="7.50", traffic_out="9.10"))
    settings = AgentSettings(
        collector=target, state_dir=tmp_path / "agent", interval=0.2, report_every=0.4, token=token
    )
    with running_agent(settings) as agent:
        agent_id = agent.identity.agent_id
        machine = machines_pb2.GetMachineRequest(agent_id=agent_id)
        wait_for(lambda: admin.machines.GetMachine(machine).online)
        rental = admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=agent_id, renter="alice", plan="e2e")
        )
        time.sleep(3)
        live = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
        assert live.covered_us > 0 and live.cost.minor_units > 0  # the rating job runs live
        stopped = admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
        end_us = _micros(stopped.ended_at)
        wait_for(lambda: _micros(admin.machines.GetMachine(machine).last_report_end) >= end_us)
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
    ).invoices
    expected = expected_lines(
        Path(collector.settings.db_url.removeprefix("sqlite:///")),
        agent_id,
        _micros(stopped.started_at),
        end_us,
    )
    # A meter with no usage (no traffic on a quiet machine) has no line.
    billed = {line.meter: line.amount.minor_units for line in invoice.lines if line.amount.minor_units}
    assert billed == {meter: cents for meter, cents in expected.items() if cents}
    assert invoice.total.minor_units == sum(expected.values())
    time_line = next(line for line in invoice.lines if line.meter == "time")
    assert 2.5 <= float(time_line.quantity) <= 3.6  # the covered seconds of a ~3 s rental
    explained = rentmeter("explain", rental.session_id, collector=target)
    assert explained.returncode == 0, explained.stderr
    assert (
        "rental time (standard): 123.45 EUR/h" in explained.stdout and invoice.invoice_id in explained.stdout
    )
    assert agent.sender.rejected == 0


@pytest.mark.timeout(60)
def test_agent_restart_continues_its_sequence(
    collector: Collector, admin: AdminClient, tmp_path: Path
) -> None:
    target = f"127.0.0.1:{collector.port}"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(
        collector=target, state_dir=tmp_path / "agent", interval=0.1, report_every=0.2, token=token
    )
    with running_agent(settings) as agent:
        time.sleep(0.8)
    first_run = admin.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent.identity.agent_id))
    restarted = AgentSettings(collector=target, state_dir=tmp_path / "agent", interval=0.1, report_every=0.2)
    with running_agent(restarted) as again:
        assert again.identity.agent_id == agent.identity.agent_id  # no token needed: already enrolled
        time.sleep(0.8)
    second_run = admin.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent.identity.agent_id))
    assert first_run.last_sequence > 0 and second_run.last_sequence > first_run.last_sequence
    assert again.sender.rejected == 0
    assert len(Spool(tmp_path / "agent" / SPOOL_FILE)) == 0  # everything delivered on the way out


@pytest.mark.timeout(60)
def test_an_agent_rotates_its_key_and_keeps_reporting(
    collector: Collector, admin: AdminClient, tmp_path: Path
) -> None:
    target = f"127.0.0.1:{collector.port}"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(
        collector=target, state_dir=tmp_path / "agent", interval=0.1, report_every=0.2, token=token
    )
    with running_agent(settings) as agent:
        wait_for(lambda: agent.sender.acknowledged >= 2)
    old_key = (tmp_path / "agent" / "agent.key").read_bytes()
    channel = open_channel(settings)
    try:
        last_old = rotate_key(settings, channel)
    finally:
        channel.close()
    assert last_old >= 2 and (tmp_path / "agent" / "agent.key").read_bytes() != old_key
    assert not (tmp_path / "agent" / "agent.key.new").exists()
    with running_agent(settings) as agent:  # signs with the new key from here on
        wait_for(lambda: agent.sender.acknowledged >= 3)
        assert agent.sender.rejected == 0
