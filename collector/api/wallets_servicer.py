"""WalletService: prepaid top-ups, wallets with their ledger entries, and the ledger check."""

from __future__ import annotations

from sqlalchemy.orm import Session

import billing
from collector.accounts.wallets import check_ledger, entries_of, top_up, wallet_state
from collector.api import authorization, wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument, NotFound
from collector.db.models import Renter
from collector.sessions.balances import spendable_minor
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


class WalletService(Servicer, wallets_pb2_grpc.WalletServiceServicer):
    @maps_errors
    async def TopUp(self, request: wallets_pb2.TopUpRequest, context: Ctx) -> wallets_pb2.Wallet:
        if not request.idempotency_key.strip() or len(request.idempotency_key) > 150:
            raise InvalidArgument(
                "idempotency_key is required (1 to 150 characters), so a retry is not paid twice"
            )
        amount = wire.money_from_text(request.amount, request.currency)

        def run(db: Session) -> wallets_pb2.Wallet:
            top_up(db, request.renter, amount, request.idempotency_key, self.now())
            return _wallet(db, request.renter.strip(), amount.currency)

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
    async def CheckLedger(
        self, request: wallets_pb2.CheckLedgerRequest, context: Ctx
    ) -> wallets_pb2.LedgerCheck:
        return await self.db.run(lambda db: wire.ledger_check_to_proto(check_ledger(db)))
