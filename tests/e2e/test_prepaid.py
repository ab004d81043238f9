"""A renter with a small prepaid balance rents a real machine until the money runs out."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from agent.config import AgentSettings
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import invoices_pb2, machines_pb2, sessions_pb2, wallets_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request
from tests.e2e.harness import wait_for
from tests.e2e.test_controls import lines, recording_action


@pytest.fixture
def collector_settings(tmp_path: Path) -> CollectorSettings:
    return CollectorSettings(
        listen="127.0.0.1:0",
        db_url=f"sqlite:///{tmp_path / 'collector.db'}",
        rating_interval=timedelta(seconds=0.5),
        invoice_period=timedelta(days=1),
        invoice_grace=timedelta(seconds=2),
        low_balance_alerts="0.60,0.30",
        balance_grace=timedelta(seconds=1),
    )


@pytest.mark.timeout(90)
def test_the_session_ends_when_the_wallet_is_empty(
    collector: Collector, admin: AdminClient, tmp_path: Path
) -> None:
    log = recording_action(tmp_path)
    action = f"command:{tmp_path / 'on-control.sh'}"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(
        collector=f"127.0.0.1:{collector.port}", state_dir=tmp_path / "agent", interval=0.2, report_every=0.4,
        token=token, actions={"session-stopped": action, "low-balance": action},
    )  # fmt: skip
    admin.plans.CreatePlan(plan_request("fast", {"standard": "360.00"}))  # 10 cents a second
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="tom", amount="1.00", currency="EUR", idempotency_key="k1")
    )
    updates: list[sessions_pb2.LiveCost] = []
    with running_agent(settings) as agent:
        wait_for(lambda: agent.sender.acknowledged > 0)
        rental = admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="tom", plan="fast")
        )
        stream = admin.sessions.WatchSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
        watcher = threading.Thread(target=lambda: updates.extend(stream), daemon=True)
        watcher.start()
        wait_for(lambda: any(line.startswith("session-stopped") for line in lines(log)), timeout=40)
        watcher.join(timeout=10)
        stopped = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
        end_us = stopped.ended_at.seconds * 10**6 + stopped.ended_at.nanos // 1000
        machine = machines_pb2.GetMachineRequest(agent_id=agent.identity.agent_id)
        wait_for(lambda: _us(admin.machines.GetMachine(machine).last_report_end) >= end_us)
    told = lines(log)
    assert told[0].startswith(f"low-balance {rental.session_id} balance low:")  # below 0.60
    assert any("balance exhausted" in line for line in told if line.startswith("low-balance"))
    assert told[-1] == f"session-stopped {rental.session_id} balance exhausted"
    # The live view: cost rising, time left falling, a last message when the session stopped.
    costs = [u.cost.minor_units for u in updates]
    assert costs == sorted(costs) and costs[-1] > costs[0]
    left = [u.time_left.ToTimedelta() for u in updates if u.HasField("time_left")]
    assert left[0] > left[-1] and updates[-1].state == sessions_pb2.RentalSession.STOPPED
    close = invoices_pb2.CloseInvoicesRequest(renter="tom", invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    assert list(admin.invoices.CloseInvoices(close).invoices) == []  # run twice: one invoice
    final = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    assert invoice.total.minor_units == final.cost.minor_units >= 100
    wallet = admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="tom"))
    assert wallet.balance.minor_units == 100 - invoice.total.minor_units and wallet.held.minor_units == 0
    assert admin.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest()).balanced


def _us(ts) -> int:  # type: ignore[no-untyped-def]
    return ts.seconds * 10**6 + ts.nanos // 1000
