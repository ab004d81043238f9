"""The command line for what an admin scripts around the portal's API: fleet, earnings and alerts, the audit
log, wallet adjustments, renters, payments and credit notes, usage series and plan previews, each as a
real `rentmeter` process against a real collector."""

from __future__ import annotations

import json
import time
from pathlib import Path

import grpc

from agent.identity import Identity
from collector.server import Collector
from protos.rentmeter.v1 import invoices_pb2, sessions_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import new_identity, plan_request, sample, signed
from tests.collector.test_services import enroll, stream
from tests.e2e.harness import rentmeter


def _json(*args: str, collector: str) -> dict:  # type: ignore[type-arg]
    result = rentmeter(*args, "--output", "json", collector=collector)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_fleet_earnings_alerts_and_usage_series(
    collector: Collector, admin: AdminClient, channel: grpc.Channel
) -> None:
    at = f"127.0.0.1:{collector.port}"
    identity = enroll(channel, admin)
    admin.plans.CreatePlan(plan_request("std", {"standard": "36.00"}))
    start = sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter="alice", plan="std")
    begun = admin.sessions.StartSession(start).started_at
    t = begun.seconds + begun.nanos / 1e9
    stream(channel, [signed(identity, 1, [sample(t, t + 1, rx=5000)])])
    fleet = _json("fleet", "show", collector=at)
    assert [(m["renter"], m["rate_per_hour"]["display"]) for m in fleet["machines"]] == [
        ("alice", "36.00 EUR")
    ]
    shown = rentmeter("fleet", "show", collector=at)
    assert (
        shown.returncode == 0
        and identity.agent_id in shown.stdout
        and "revenue now: 36.00 EUR/h" in shown.stdout
    )
    time.sleep(1.5)  # rated
    earned = _json("fleet", "earnings", "--period", "month", "--timezone", "Asia/Shanghai", collector=at)
    assert [r["agent_id"] for r in earned["rows"]] == [identity.agent_id]
    assert rentmeter("fleet", "alerts", collector=at).stdout.strip() == "nothing needs attention"
    series = _json("usage", "--session", rentmeter_session(admin), "--series", "--step", "1s", collector=at)
    assert sum(int(p["net_rx_bytes"]) for p in series["points"]) == 5000
    wrong = rentmeter("usage", "--machine", identity.agent_id, "--step", "1s", collector=at)
    assert wrong.returncode == 2 and "--step goes with --series" in wrong.stderr
    too_fine = rentmeter("usage", "--machine", identity.agent_id, "--series", "--step", "1s", collector=at)
    assert too_fine.returncode == 1
    expected = "error: 3600 steps of 1 s: at most 1000 points, choose a longer step (INVALID_ARGUMENT)\n"
    assert too_fine.stderr == expected
    victim = enroll(channel, admin)
    forged = Identity(victim.agent_id, "standard", new_identity().key)
    stream(channel, [signed(forged, 1, [sample(t, t + 1)])])
    alerts = rentmeter("fleet", "alerts", collector=at)
    assert (
        alerts.returncode == 1
        and f"reports_rejected: 1 report(s) of machine {victim.agent_id}" in alerts.stdout
    )


def rentmeter_session(admin: AdminClient) -> str:
    (session,) = admin.sessions.ListSessions(sessions_pb2.ListSessionsRequest()).sessions
    return session.session_id


def test_audit_wallets_renters_payments_and_previews(
    collector: Collector, admin: AdminClient, tmp_path: Path
) -> None:
    at = f"127.0.0.1:{collector.port}"
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="bob", amount="5.00", currency="EUR", idempotency_key="k")
    )
    adjusted = rentmeter("wallet", "adjust", "bob", "-1.50", "--reason", "refund of a fee", collector=at)
    assert adjusted.returncode == 0 and "balance 3.50 EUR" in adjusted.stdout, adjusted.stderr
    zero = rentmeter("wallet", "adjust", "bob", "0", "--reason", "x", collector=at)
    assert zero.returncode == 2 and "'0' must be more than 0" in zero.stderr
    no_card = rentmeter("wallet", "request-topup", "bob", "10", collector=at)
    assert no_card.returncode == 1 and "bob has no payment method on file" in no_card.stderr
    entries = _json("audit", "list", "--action", "WalletService/", collector=at)["entries"]
    assert [e["action"] for e in entries] == ["WalletService/AdjustWallet", "WalletService/TopUp"]
    assert rentmeter("audit", "verify", collector=at).stdout.startswith("audit log intact: ")
    assert [r["renter"] for r in _json("renter", "list", "--query", "bo", collector=at)["renters"]] == ["bob"]
    assert _json("invoice", "payments", "--failed", collector=at) == {"payments": []}
    assert _json("invoice", "credit-notes", "--renter", "bob", collector=at) == {"credit_notes": []}
    plan = tmp_path / "night.toml"
    plan.write_text('name = "night"\ncurrency = "EUR"\neffective_from = 2030-01-01T00:00:00Z\n'
                    '[time.hourly]\nstandard = "2.00"\n')  # fmt: skip
    quote = _json("quote", "--file", str(plan), "--duration", "90m", collector=at)
    assert (quote["plan"], quote["total"]["display"]) == ("night", "3.00 EUR")
    missing = rentmeter("quote", "--file", str(tmp_path / "none.toml"), "--duration", "1h", collector=at)
    assert missing.returncode == 2 and "cannot read the plan file" in missing.stderr
    assert admin.invoices.ListPayments(invoices_pb2.ListPaymentsRequest()).payments == []
