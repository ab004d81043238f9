"""The audit log: admin actions and money movements, hash-chained; tampering is found."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

import billing
from collector.accounts.audit import record, verify
from collector.accounts.wallets import top_up
from collector.db.database import Database
from collector.server import Collector
from protos.rentmeter.v1 import plans_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_money_movements_and_admin_actions_are_chained(database: Database) -> None:
    database.call(top_up, "ann", billing.Money(500, "EUR"), "pay-1", NOW)
    database.call(
        record, "admin", "PlanService/CreatePlan", {"document": "name = ..."}, NOW + timedelta(seconds=1)
    )
    result = database.call(verify)
    assert result.intact and result.entries == 2
    with database.engine.begin() as db:
        db.execute(text('UPDATE audit_log SET details = \'{"document":"forged"}\' WHERE id = 2'))
    broken = database.call(verify)
    assert (broken.intact, broken.broken_at) == (False, 2) and "edited" in broken.reason


def test_a_removed_entry_breaks_the_chain(database: Database) -> None:
    for n in range(3):
        database.call(record, "admin", "RenterService/UpdateRenter", {"n": n}, NOW + timedelta(seconds=n))
    with database.engine.begin() as db:
        db.execute(text("DELETE FROM audit_log WHERE id = 2"))
    assert database.call(verify).broken_at == 3
    with database.engine.begin() as db:
        db.execute(text("DELETE FROM audit_log WHERE id = 3"))
    tail = database.call(verify)
    assert not tail.intact and "removed" in tail.reason


def test_calls_that_change_something_are_logged_with_their_caller(
    collector: Collector, admin: AdminClient
) -> None:
    admin.plans.CreatePlan(plan_request("p", {"standard": "1"}))
    admin.plans.ListPlans(plans_pb2.ListPlansRequest())  # read-only: not logged
    admin.wallets.TopUp(wallets_pb2.TopUpRequest(renter="r", amount="2", currency="EUR", idempotency_key="k"))
    with collector.database.engine.connect() as db:
        rows = db.execute(text("SELECT actor, action FROM audit_log ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        ("admin", "PlanService/CreatePlan"),
        ("collector", "ledger:top-up"),
        ("admin", "WalletService/TopUp"),
    ]
    url = collector.settings.db_url
    verified = subprocess.run([sys.executable, "-m", "rentmeter", "collector", "audit-verify", "--db", url],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert verified.returncode == 0 and "audit log intact: 3 entries" in verified.stdout
