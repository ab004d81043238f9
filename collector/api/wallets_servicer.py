"""WalletService: prepaid top-ups (recorded by the provider, or charged to the renter's card), the
provider's adjustments, wallets with their ledger entries, and the ledger check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from collector.accounts.wallets import adjust_wallet, check_ledger, entries_of, top_up, wallet_state
from collector.api import authorization, wire
from collector.api.packs_wire import offer_to_proto, pack_to_proto
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument, NotFound
from collector.db.database import Database
from collector.db.models import PricePlan, Renter
from collector.payments.providers import PaymentProvider
from collector.payments.topups import request_top_up
from collector.sessions.balances import spendable_minor
from collector.sessions.pack_sales import buy_pack, offers_at, packs_of_renter
from protos.rentmeter.v1 import wallets_pb2, wallets_pb2_grpc

DEFAULT_CURRENCY = "EUR"


def _wallet(db: Session, renter_id: str, currency: str = "") -> wallets_pb2.Wallet:
    renter = db.get(Renter, renter_id)
    if renter is None:
        raise NotFound("renter", renter_id)
    entries = entries_of(db, renter_id)
    currency = currency or (entries[0][1].currency if entries else DEFAULT_CURRENCY)
    return wire.wallet_to_proto(
        renter, wallet_state(db, renter_id, currency), spendable_minor(db, renter_id, currency), entries
    )


def _idempotency_key(text: str) -> str:
    if not text.strip() or len(text) > 150:
        raise InvalidArgument(
            "idempotency_key is required (1 to 150 characters), so a retry is not paid twice"
        )
    return text


class WalletService(Servicer, wallets_pb2_grpc.WalletServiceServicer):
    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        providers: Mapping[str, PaymentProvider] | None = None,
    ) -> None:
        """`providers`: the payment providers renters' top-ups are charged through, by method name."""
        super().__init__(database, now)
        self._providers = providers or {}

    @maps_errors
    async def TopUp(self, request: wallets_pb2.TopUpRequest, context: Ctx) -> wallets_pb2.Wallet:
        _idempotency_key(request.idempotency_key)
        amount = wire.money_from_text(request.amount, request.currency)

        def run(db: Session) -> wallets_pb2.Wallet:
            top_up(db, request.renter, amount, request.idempotency_key, self.now())
            return _wallet(db, request.renter.strip(), amount.currency)

        return await self.db.run(run)

    @maps_errors
    async def RequestTopUp(self, request: wallets_pb2.TopUpRequest, context: Ctx) -> wallets_pb2.Wallet:
        """The renter's own wallet (an admin: any renter's), charged to its payment method on file."""
        authorization.hide_unless(
            authorization.current().may_see_renter(request.renter), "renter", request.renter
        )
        key = _idempotency_key(request.idempotency_key)
        amount = wire.money_from_text(request.amount, request.currency)
        await request_top_up(self.db, self._providers, request.renter, amount, key, self.now())
        return await self.db.run(_wallet, request.renter, amount.currency)

    @maps_errors
    async def AdjustWallet(
        self, request: wallets_pb2.AdjustWalletRequest, context: Ctx
    ) -> wallets_pb2.Wallet:
        key = _idempotency_key(request.idempotency_key)
        amount = wire.signed_money_from_text(request.amount, request.currency)

        def run(db: Session) -> wallets_pb2.Wallet:
            adjust_wallet(db, request.renter, amount, request.reason, key, self.now())
            return _wallet(db, request.renter, amount.currency)

        return await self.db.run(run)

    @maps_errors
    async def GetWallet(self, request: wallets_pb2.GetWalletRequest, context: Ctx) -> wallets_pb2.Wallet:
        authorization.hide_unless(
            authorization.current().may_see_renter(request.renter), "renter", request.renter
        )
        currency = request.currency.strip().upper()
        if currency:
            try:
                billing.money.exponent(currency)
            except billing.BillingError as exc:
                raise InvalidArgument(str(exc)) from None
        return await self.db.run(_wallet, request.renter, currency)

    @maps_errors
    async def BuyPack(self, request: wallets_pb2.BuyPackRequest, context: Ctx) -> wallets_pb2.TimePack:
        """The renter's own wallet (an admin: any renter's) buys one of a plan's packs."""
        authorization.hide_unless(
            authorization.current().may_see_renter(request.renter), "renter", request.renter
        )
        key = _idempotency_key(request.idempotency_key)

        def run(db: Session) -> wallets_pb2.TimePack:
            now = self.now()
            pack = buy_pack(db, request.renter, request.plan, request.pack, request.when_used_up, key, now)
            view = next(v for v in packs_of_renter(db, pack.renter_id) if v.pack.id == pack.id)
            return pack_to_proto(view, now)

        return await self.db.run(run)

    @maps_errors
    async def ListPacks(
        self, request: wallets_pb2.ListPacksRequest, context: Ctx
    ) -> wallets_pb2.ListPacksResponse:
        authorization.hide_unless(
            authorization.current().may_see_renter(request.renter), "renter", request.renter
        )

        def run(db: Session) -> wallets_pb2.ListPacksResponse:
            now = self.now()
            packs = [pack_to_proto(view, now) for view in packs_of_renter(db, request.renter)]
            plans = db.scalars(select(PricePlan).order_by(PricePlan.name))
            offers = [offer_to_proto(plan.name, plan.currency, offer)
                      for plan in plans for offer in offers_at(plan, now)]  # fmt: skip
            return wallets_pb2.ListPacksResponse(packs=packs, offers=offers)

        return await self.db.run(run)

    @maps_errors
    async def CheckLedger(
        self, request: wallets_pb2.CheckLedgerRequest, context: Ctx
    ) -> wallets_pb2.LedgerCheck:
        return await self.db.run(lambda db: wire.ledger_check_to_proto(check_ledger(db)))
