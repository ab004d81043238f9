"""Time packs between the database and their gRPC messages (WalletService.BuyPack and ListPacks)."""

from __future__ import annotations

from datetime import datetime

import billing
from billing.packs import PackOffer
from collector.api.wire import money, timestamp
from collector.sessions.pack_sales import PackView
from protos.rentmeter.v1 import wallets_pb2


def pack_to_proto(view: PackView, now: datetime) -> wallets_pb2.TimePack:
    pack = view.pack
    return wallets_pb2.TimePack(
        id=pack.id, renter=pack.renter_id, plan=pack.plan.name, name=pack.name,
        price=money(pack.price_minor, pack.currency), unlimited=pack.time_us is None,
        time_us=pack.time_us or 0, used_us=view.used_us, left_us=view.left_us or 0, window=pack.window,
        bought_at=timestamp(pack.bought_at), valid_until=timestamp(pack.valid_until),
        when_used_up=pack.when_used_up, state=view.state(now),
    )  # fmt: skip


def offer_to_proto(plan: str, currency: str, offer: PackOffer) -> wallets_pb2.PackOffer:
    return wallets_pb2.PackOffer(
        plan=plan, name=offer.name, price=money(billing.Money.of(offer.price, currency).minor, currency),
        unlimited=offer.time_us is None, time_us=offer.time_us or 0, valid_for_us=offer.valid_for_us,
        window=offer.window, description=offer.describe(currency),
    )  # fmt: skip
