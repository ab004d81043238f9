"""`rentmeter packs buy|list` against a real collector: a pack bought once per key, listed with its time."""

from __future__ import annotations

import json

from collector.server import Collector
from protos.rentmeter.v1 import plans_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.test_packs_api import PACK_PLAN
from tests.e2e.harness import rentmeter


def test_packs_buy_and_list(collector: Collector, admin: AdminClient) -> None:
    target = f"127.0.0.1:{collector.port}"
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PACK_PLAN))
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="kai", amount="12.00", currency="EUR", idempotency_key="t")
    )
    bought = rentmeter("packs", "buy", "kai", "cafe", "3 hours", "--key", "b1", "--when-used-up", "stop",
                       collector=target)  # fmt: skip
    assert bought.returncode == 0, bought.stderr
    assert "3 hours" in bought.stdout and "3 h 00 min" in bought.stdout and "stop" in bought.stdout
    again = rentmeter("packs", "buy", "kai", "cafe", "3 hours", "--key", "b1", "--output", "json",
                      collector=target)  # fmt: skip
    listed = rentmeter("packs", "list", "kai", "--output", "json", collector=target)
    packs = json.loads(listed.stdout)["packs"]
    assert len(packs) == 1 and packs[0]["id"] == json.loads(again.stdout)["id"]  # bought once
    assert packs[0]["left_us"] == str(3 * 3600 * 10**6) and packs[0]["state"] == "active"
    table = rentmeter("packs", "list", "kai", collector=target)
    assert "packs for sale" in table.stdout and "half hour" in table.stdout
    poor = rentmeter("packs", "buy", "kai", "cafe", "3 hours", "--key", "b2", collector=target)
    assert poor.returncode == 1
    assert "the wallet of kai has 2.00 EUR available: the 3 hours pack costs 10.00 EUR" in poor.stderr
    bad = rentmeter("packs", "buy", "kai", "cafe", "3 hours", "--when-used-up", "never", collector=target)
    assert bad.returncode == 2
