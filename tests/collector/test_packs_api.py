"""Night caps, time packs and the burn-rate forecast through the public API: a real collector on loopback
(SQLite and PostgreSQL) with a clock the test moves, machines reporting over gRPC, totals by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from agent.identity import Identity
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import (
    access_pb2,
    invoices_pb2,
    machines_pb2,
    plans_pb2,
    sessions_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.accounts_helpers import Clock, client, clocked_collector, outcome
from tests.collector.helpers import sample, signed
from tests.collector.test_services import enroll, stream

NIGHT_PLAN = """\
name = "nights"
currency = "EUR"
timezone = "Europe/Berlin"

[[windows]]
name = "night"
from = "23:00"
to = "07:00"
cap = "15.00"

[time.hourly]
standard = "3.00"
"""

PACK_PLAN = """\
name = "cafe"
currency = "EUR"

[time.hourly]
standard = "36.00"
gpu = "12.00"

[traffic]
in_per_gb = "1.00"

[burn_rates]
gpu = "1.5"

[[packs]]
name = "3 hours"
price = "10.00"
time = "3h"

[[packs]]
name = "half hour"
price = "5.00"
time = "30m"
"""


BEGAN = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # Saturday 22:00 in Berlin, the night of the change


@pytest.fixture
def clock() -> Clock:
    """The collector's clock, an hour before the rentals begin (machines enroll then)."""
    clock = Clock()
    clock.at = BEGAN - timedelta(hours=1)
    return clock


@pytest.fixture
def served(collector_settings: CollectorSettings, db_url: str, clock: Clock) -> Iterator[Collector]:
    with clocked_collector(replace(collector_settings, db_url=db_url), clock) as running:
        yield running


@pytest.fixture
def admin(served: Collector) -> Iterator[AdminClient]:
    admin = client(served, served.admin_token)  # type: ignore[attr-defined]
    yield admin
    admin.close()


@pytest.fixture
def channel(served: Collector) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{served.port}") as ch:
        yield ch


def renter_client(served: Collector, admin: AdminClient, name: str) -> AdminClient:
    token = admin.access.CreateApiToken(access_pb2.CreateApiTokenRequest(role="renter", subject=name)).token
    return client(served, token)


def machine_of_class(channel: grpc.Channel, admin: AdminClient, machine_class: str) -> Identity:
    request = machines_pb2.CreateEnrollmentTokenRequest(machine_class=machine_class)
    return enroll(channel, admin, admin.machines.CreateEnrollmentToken(request).token)


def report(
    channel: grpc.Channel, machine: Identity, start: datetime, minutes: int, rx_per_s: int = 0
) -> None:
    """The machine covers [start, start + minutes) in one-minute samples, 600 to a report."""
    base = start.timestamp()
    samples = [sample(base + 60 * i, base + 60 * (i + 1), rx=60 * rx_per_s) for i in range(minutes)]
    envelopes = [
        signed(machine, 1000 + int(base // 60) + n, samples[i : i + 600])
        for n, i in enumerate(range(0, minutes, 600))
    ]
    acks = stream(channel, envelopes)
    assert len(acks) == len(envelopes)


def watch_once(who: AdminClient, session_id: str) -> sessions_pb2.LiveCost:
    call = who.sessions.WatchSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    try:
        return next(iter(call))
    finally:
        call.cancel()


def start(admin: AdminClient, machine: Identity, renter: str, plan: str) -> str:
    request = sessions_pb2.StartSessionRequest(agent_id=machine.agent_id, renter=renter, plan=plan)
    return admin.sessions.StartSession(request).session_id


def lines(admin: AdminClient, session_id: str) -> dict[str, sessions_pb2.ChargeTrace]:
    explained = admin.sessions.ExplainSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    return {line.meter: line for line in explained.charges}


def test_two_nights_one_of_them_the_dst_night_pay_two_caps(
    admin: AdminClient, channel: grpc.Channel, clock: Clock
) -> None:
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=NIGHT_PLAN))
    machine = machine_of_class(channel, admin, "standard")
    began = clock.at = BEGAN
    session_id = start(admin, machine, "nina", "nights")
    clock.at = began + timedelta(hours=35)  # Monday 08:00 in Berlin
    report(channel, machine, began, 35 * 60)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    # By hand, at 3.00 an hour: 22:00-23:00 (3.00); the DST night 23:00-07:00 lasts 9 h (27.00, capped to
    # 15.00); Sunday 07:00-23:00 (48.00); the next night 8 h (24.00, capped to 15.00); 07:00-08:00 (3.00).
    charged = lines(admin, session_id)
    assert charged["time"].amount.display == "105.00 EUR"
    assert charged["cap"].amount.display == "-21.00 EUR"
    assert "night cap 15.00 EUR reached (2 nights)" in charged["cap"].description
    assert watch_once(admin, session_id).rated_cost.display == "84.00 EUR"
    # The quote of the same rental says the same.
    quote = admin.plans.Quote(
        plans_pb2.QuoteRequest(
            plan="nights",
            machine_class="standard",
            start=Timestamp(seconds=int(began.timestamp())),
            duration=Duration(seconds=35 * 3600),
        )
    )
    assert quote.total.display == "84.00 EUR"
    (version,) = admin.plans.GetPlan(plans_pb2.GetPlanRequest(name="nights")).versions
    assert "window night (every day, 23:00-07:00), at most 15.00 EUR per night" in version.rules


def test_a_gpu_pack_runs_out_at_the_expected_minute_with_overage_after(
    served: Collector, admin: AdminClient, channel: grpc.Channel, clock: Clock
) -> None:
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PACK_PLAN))
    machine = machine_of_class(channel, admin, "gpu")
    began = clock.at = BEGAN
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="gina", amount="50.00", currency="EUR", idempotency_key="t1")
    )
    gina = renter_client(served, admin, "gina")
    buy = wallets_pb2.BuyPackRequest(renter="gina", plan="cafe", pack="3 hours", idempotency_key="b1")
    bought = gina.wallets.BuyPack(buy)
    assert gina.wallets.BuyPack(buy).id == bought.id  # retried: bought once
    wallet = gina.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="gina"))
    assert wallet.balance.display == "40.00 EUR"
    assert [e.kind for e in wallet.entries].count("pack") == 1
    session_id = start(admin, machine, "gina", "cafe")
    # An hour on the GPU box burns 1 h 30 min of the pack: 1 h 30 min of pack time left = 1 h of rental.
    clock.at = began + timedelta(hours=1)
    report(channel, machine, began, 60)
    live = watch_once(gina, session_id)
    assert live.pack_time_left.ToTimedelta() == timedelta(hours=1)
    assert live.rated_cost.display == "0.00 EUR"
    # Three hours: the pack runs out after two (at 22:00 UTC), the third hour is metered at 12.00.
    clock.at = began + timedelta(hours=3)
    report(channel, machine, began + timedelta(hours=1), 120)
    live = watch_once(gina, session_id)
    assert live.pack_time_left.ToTimedelta() == timedelta(0)
    assert live.rated_cost.display == "12.00 EUR"
    charged = lines(admin, session_id)
    pack_line = charged[f"pack:{bought.id}"]
    assert "ran out at 2026-10-24T22:00:00+00:00" in pack_line.description
    assert pack_line.quantity == "10800" and pack_line.amount.display == "0.00 EUR"
    assert charged["time#2"].quantity == "3600" and charged["time#2"].amount.display == "12.00 EUR"
    (listed,) = gina.wallets.ListPacks(wallets_pb2.ListPacksRequest(renter="gina")).packs
    assert (listed.used_us, listed.left_us, listed.state) == (3 * 3600 * 10**6, 0, "used up")
    # The invoice: the pack's line (amount 0, its time used) and the hour of overage; taken from the wallet.
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    close = invoices_pb2.CloseInvoicesRequest(renter="gina", invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    billed = {line.meter: line for line in invoice.lines}
    assert billed[f"pack:{bought.id}"].amount.display == "0.00 EUR"
    assert billed[f"pack:{bought.id}"].quantity == "10800"
    assert billed["time#2"].amount.display == "12.00 EUR" and invoice.total.display == "12.00 EUR"
    wallet = gina.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="gina"))
    assert wallet.balance.display == "28.00 EUR"  # 50.00 - 10.00 (pack) - 12.00 (invoice)
    assert admin.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest()).balanced


def test_buying_needs_the_money_and_a_known_pack(served: Collector, admin: AdminClient) -> None:
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PACK_PLAN))
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="poor", amount="4.00", currency="EUR", idempotency_key="t")
    )
    poor = renter_client(served, admin, "poor")

    def buy(renter: str, pack: str) -> tuple[grpc.StatusCode, str]:
        request = wallets_pb2.BuyPackRequest(renter=renter, plan="cafe", pack=pack, idempotency_key="k")
        return outcome(lambda: poor.wallets.BuyPack(request))

    code, text = buy("poor", "half hour")
    assert code is grpc.StatusCode.FAILED_PRECONDITION
    assert (
        text
        == "the wallet of poor has 4.00 EUR available: the half hour pack costs 5.00 EUR; top it up first"
    )
    code, text = buy("poor", "day")
    assert code is grpc.StatusCode.NOT_FOUND and "offers: 3 hours, half hour" in text
    assert buy("rich", "half hour")[0] is grpc.StatusCode.NOT_FOUND  # another renter's wallet
    (version,) = admin.plans.GetPlan(plans_pb2.GetPlanRequest(name="cafe")).versions
    assert "time pack 3 hours: 3 h 00 min for 10.00 EUR, valid 30 days" in version.rules
    assert "class gpu uses pack time at x1.5" in version.rules
    offers = poor.wallets.ListPacks(wallets_pb2.ListPacksRequest(renter="poor")).offers
    assert [(o.name, o.price.display) for o in offers] == [
        ("3 hours", "10.00 EUR"),
        ("half hour", "5.00 EUR"),
    ]


def test_the_forecast_is_the_hand_computed_minutes(
    served: Collector, admin: AdminClient, channel: grpc.Channel, clock: Clock
) -> None:
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PACK_PLAN))
    machine = machine_of_class(channel, admin, "standard")
    began = clock.at = BEGAN
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="finn", amount="20.00", currency="EUR", idempotency_key="t")
    )
    finn = renter_client(served, admin, "finn")
    finn.wallets.BuyPack(
        wallets_pb2.BuyPackRequest(renter="finn", plan="cafe", pack="half hour", idempotency_key="b")
    )
    session_id = start(admin, machine, "finn", "cafe")
    clock.at = began + timedelta(minutes=10)
    report(channel, machine, began, 10, rx_per_s=10**6)  # 1 MB/s in: 0.60 EUR in ten minutes
    live = watch_once(finn, session_id)
    # Wallet 20.00 - 5.00 (pack) - 0.60 (traffic) = 14.40. The pack pays 20 more minutes, while traffic
    # costs 3.60 an hour (1.20 in 20 min): 13.20 left, then 36.00 + 3.60 = 39.60 an hour: 20 min. 40 min.
    assert live.balance.display == "14.40 EUR"
    assert live.burn_rate_per_hour.display == "3.60 EUR"
    assert live.pack_time_left.ToTimedelta() == timedelta(minutes=20)
    assert live.balance_lasts.ToTimedelta() == timedelta(minutes=40)
    assert live.balance_runs_out_at.ToDatetime(tzinfo=UTC) == clock.at + timedelta(minutes=40)
