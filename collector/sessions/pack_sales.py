"""Buying time packs from the wallet, and a renter's packs with what is left of them.

A pack is bought under one of a plan's offers (the version in force when bought): its price leaves the
wallet as a ledger transaction of kind "pack" (wallet to revenue), once per idempotency key, and only when
the wallet has that much available (its balance less the running sessions' cost and holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import billing
from billing import ledger
from billing.packs import PackOffer
from collector.accounts.wallets import post, scoped_key, wallet_state
from collector.core.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.db.models import PackUse, PricePlan, Renter, TimePack
from collector.sessions.balances import spendable_minor
from collector.sessions.plans import versions_of

WHEN_USED_UP = ("payg", "stop")


def offers_at(plan: PricePlan, now: datetime) -> list[PackOffer]:
    """The packs the plan's version in force at `now` offers."""
    versions = versions_of(plan)
    if now < versions[0].effective_from:
        return []
    return list(versions[billing.version_at(versions, now)].packs)


def buy_pack(
    db: Session, renter_id: str, plan_name: str, pack_name: str, when_used_up: str, key: str, now: datetime
) -> TimePack:
    """Buy the plan's pack `pack_name` from the renter's wallet (a retry with the same key buys once)."""
    when_used_up = when_used_up or "payg"
    if when_used_up not in WHEN_USED_UP:
        raise InvalidArgument("when_used_up is payg (go on, metered, from the wallet) or stop")
    renter = db.get(Renter, renter_id, with_for_update=True)  # one purchase of a renter at a time
    if renter is None:
        raise NotFound("renter", renter_id)
    ledger_key = "pack:" + scoped_key(renter.id, key)
    bought = db.scalar(select(TimePack).where(TimePack.idempotency_key == ledger_key))
    if bought is not None:
        return bought
    plan = db.scalar(select(PricePlan).where(PricePlan.name == plan_name))
    if plan is None:
        raise NotFound("price plan", plan_name)
    offers = offers_at(plan, now)
    offer = next((o for o in offers if o.name == pack_name), None)
    if offer is None:
        known = ", ".join(o.name for o in offers) or "none"
        raise NotFound("time pack", f"{pack_name} (plan {plan_name} offers: {known})")
    price = billing.Money.of(offer.price, plan.currency)
    available = (
        spendable_minor(db, renter.id, plan.currency, now)
        - wallet_state(db, renter.id, plan.currency).held_minor
    )
    if available < price.minor:
        raise FailedPrecondition(
            f"the wallet of {renter.id} has {billing.Money(available, plan.currency)} available: "
            f"the {offer.name} pack costs {price}; top it up first"
        )
    pack = TimePack(
        renter_id=renter.id, plan_id=plan.id, name=offer.name, currency=plan.currency,
        price_minor=price.minor, time_us=offer.time_us, window=offer.window, bought_at=now,
        valid_until=now + timedelta(microseconds=offer.valid_for_us), when_used_up=when_used_up,
        idempotency_key=ledger_key,
    )  # fmt: skip
    db.add(pack)
    db.flush()
    if price.minor:
        post(db, ledger.pack_purchase(renter.id, price, f"pack {pack.id}"), ledger_key, now)
    return pack


@dataclass(frozen=True)
class PackView:
    """A renter's pack with the pack time every session used (microseconds) and what is left."""

    pack: TimePack
    used_us: int

    @property
    def left_us(self) -> int | None:
        return None if self.pack.time_us is None else max(self.pack.time_us - self.used_us, 0)

    def state(self, now: datetime) -> str:
        if now >= self.pack.valid_until:
            return "expired"
        return "used up" if self.left_us == 0 else "active"


def packs_of_renter(db: Session, renter_id: str) -> list[PackView]:
    """The renter's packs, in the order sessions use them (expiring first, then bought first)."""
    if db.get(Renter, renter_id) is None:
        raise NotFound("renter", renter_id)
    used = func.coalesce(
        select(func.sum(PackUse.used_us)).where(PackUse.pack_id == TimePack.id).scalar_subquery(), 0
    )
    query = (
        select(TimePack, used)
        .where(TimePack.renter_id == renter_id)
        .order_by(TimePack.valid_until, TimePack.bought_at, TimePack.id)
    )
    return [PackView(pack, int(micros)) for pack, micros in db.execute(query)]
