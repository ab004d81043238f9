"""The renter's wallet (/wallet): the balance in each currency (held for running rentals, spendable), its
history (top-ups, invoices taken from it, refunds, corrections, credit notes), and a top-up charged to the
card on file (WalletService.RequestTopUp: charged at once, credited once per request key; a decline is
the collector's sentence), and a top-up by Alipay or WeChat Pay where the collector has them (qr_pay.py:
the order's QR code and link on its own page); time packs bought from the wallet (packs.py). Renters
with neither card nor gateway are told how to pay in instead."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.api import Api
from portal.auth import User, requires, user_api
from portal.errors import PageNotFound, Refused
from portal.i18n import N_
from portal.pages.renter import packs, qr_pay
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import common_pb2, renters_pb2, wallets_pb2

# The ledger's transaction kinds as the renter reads them (billing/ledger.py); others are shown as named.
KINDS = {
    "top-up": N_("Top-up"),
    "charge": N_("Invoice paid from the wallet"),
    "refund": N_("Paid back to you"),
    "adjustment": N_("Correction by the provider"),
    "credit": N_("Credit note"),
    "hold": N_("Held for a rental"),
    "release": N_("Hold released"),
    "pack": N_("Time pack bought"),
}
WALLET_ACCOUNTS = ("wallet:", "hold:")  # a hold moves money inside the wallet: its balance counts both


@dataclass(frozen=True)
class Movement:
    """One transaction's effect on the renter's wallet: money in (> 0) or out (< 0)."""

    transaction_id: int
    kind: str
    reference: str
    amount: common_pb2.Money
    at: Timestamp

    @property
    def label(self) -> str:
        return i18n.gettext(KINDS[self.kind]) if self.kind in KINDS else self.kind


def wallet_history(entries: list[wallets_pb2.LedgerEntry]) -> list[Movement]:
    """The transactions that changed what the renter has, newest first: each one's wallet and hold entries
    summed per currency, seen from the renter (a credit to the wallet is money in). Holds and their
    releases, which only move money between the wallet and its hold, net to nothing and are left out."""
    sums: dict[tuple[int, str], int] = defaultdict(int)
    first: dict[int, wallets_pb2.LedgerEntry] = {}
    for entry in entries:
        if entry.account.startswith(WALLET_ACCOUNTS):
            sums[(entry.transaction_id, entry.amount.currency)] -= entry.amount.minor_units
            first.setdefault(entry.transaction_id, entry)
    movements = []
    for (tid, currency), minor in sums.items():
        if minor:
            entry, amount = first[tid], common_pb2.Money(minor_units=minor, currency=currency)
            movements.append(Movement(tid, entry.kind, entry.reference, amount, entry.at))
    return sorted(movements, key=lambda m: m.transaction_id, reverse=True)


async def wallets_of(api: Api, renter: str) -> list[wallets_pb2.Wallet]:
    """The renter's wallet in each currency its ledger entries use (the collector's default currency when
    there are none), the first one's currency first."""
    first = await api.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter=renter))
    currencies = dict.fromkeys(
        e.amount.currency for e in first.entries if e.account.startswith(WALLET_ACCOUNTS)
    )
    others = [c for c in currencies if c != first.balance.currency]
    rest = [
        await api.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter=renter, currency=c)) for c in others
    ]
    return [first, *rest]


@requires("renter")
async def wallet_page(request: Request, user: User) -> Response:
    return await _wallet_page(request, user)


async def _wallet_page(
    request: Request, user: User, error: FormError | None = None, amount: str = "", qr_amount: str = ""
) -> Response:
    api = user_api(request)
    try:
        renter = await api.renters.GetRenter(renters_pb2.GetRenterRequest(renter=user.subject))
    except PageNotFound:  # no rental, top-up or invoice yet: the collector knows no renter of this id
        renter = None
    wallets = await wallets_of(api, user.subject) if renter else []
    context = {
        "renter": renter,
        "wallets": wallets,
        "history": wallet_history(list(wallets[0].entries)) if wallets else [],
        "error": error,
        "amount": amount,
        "qr_amount": qr_amount,
        "gateways": await qr_pay.gateways_offered(api),
        "key": secrets.token_urlsafe(16),  # a new request each time the form is shown: a retry is a new key
        **await packs.packs_context(api, user.subject, renter is not None),
    }
    return render(request, "renter/wallet.html", context, status=409 if error else 200)


@requires("renter")
async def buy_pack(request: Request, user: User) -> Response:
    """Buy a time pack from the wallet; a refusal (too little money) is shown on the page."""
    try:
        bought = await user_api(request).wallets.BuyPack(packs.buy_request(user, await request.form()))
    except Refused as refusal:
        return await _wallet_page(request, user, FormError.from_refusal(refusal))
    packs.bought_notice(request, bought)
    return see_other("/wallet")


@requires("renter")
async def top_up(request: Request, user: User) -> Response:
    form = await request.form()
    amount, currency, key = (str(form.get(name, "")).strip() for name in ("amount", "currency", "key"))
    top_up_request = wallets_pb2.TopUpRequest(
        renter=user.subject, amount=amount, currency=currency, idempotency_key=key
    )
    try:
        wallet = await user_api(request).wallets.RequestTopUp(top_up_request)
    except Refused as refusal:  # a decline, no card on file, an amount out of range
        return await _wallet_page(request, user, FormError.from_refusal(refusal), amount)
    balance = i18n.format_money(wallet.balance)
    notice(
        request,
        i18n.gettext("Your card was charged and your wallet topped up: %(balance)s.") % {"balance": balance},
    )
    return see_other("/wallet")


@requires("renter")
async def top_up_by_gateway(request: Request, user: User) -> Response:
    """An Alipay or WeChat Pay order for the amount, then its page (QR code and link)."""
    form = await request.form()
    amount, gateway, key = (str(form.get(name, "")).strip() for name in ("qr_amount", "gateway", "key"))
    ask = qr_pay.order_request(request, user, gateway, amount=amount, idempotency_key=key)
    try:
        return await qr_pay.open_order(request, ask)
    except Refused as refusal:  # an amount out of range, a gateway not configured or refusing
        return await _wallet_page(request, user, FormError.from_refusal(refusal), qr_amount=amount)


ROUTES = [
    Route("/wallet", wallet_page, methods=["GET"]),
    Route("/wallet/top-up", top_up, methods=["POST"]),
    Route("/wallet/pay", top_up_by_gateway, methods=["POST"]),
    Route("/wallet/packs", buy_pack, methods=["POST"]),
]
