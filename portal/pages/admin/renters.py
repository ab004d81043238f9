"""Renters: the list with each wallet's balance (RenterService.ListRenters, WalletService.GetWallet), and
a renter's page: details, wallet with its ledger, sessions and invoices, and two money forms — a top-up
(WalletService.TopUp) and an adjustment with a reason (AdjustWallet). Each form carries an idempotency key
made when it is rendered, so a form posted twice is credited once.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.pages.admin.common import form_fields, idempotency_key, status_for
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import invoices_pb2, renters_pb2, sessions_pb2, wallets_pb2

# Renters per list page (ListRenters' page size), ledger entries shown on a renter's page.
PAGE = 50
LEDGER_SHOWN = 50
SESSIONS_SHOWN = 20
TOP_UP_FIELDS = ("amount", "currency", "idempotency_key")
ADJUST_FIELDS = ("amount", "currency", "reason", "idempotency_key")


@requires("admin")
async def renters(request: Request, user: User) -> Response:
    api = user_api(request)
    query = request.query_params.get("query", "").strip()[:100]
    after = request.query_params.get("after", "").strip()[:100]
    found = (
        await api.renters.ListRenters(renters_pb2.ListRentersRequest(query=query, after=after, limit=PAGE))
    ).renters
    # One GetWallet per renter shown (there is no batch call), side by side.
    wallets = await asyncio.gather(
        *(api.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter=renter.renter)) for renter in found)
    )
    context = {
        "rows": list(zip(found, wallets, strict=True)),
        "query": query,
        "next_after": found[-1].renter if len(found) == PAGE else "",
    }
    return render(request, "admin/renters.html", context)


@requires("admin")
async def renter(request: Request, user: User) -> Response:
    return await _renter_page(request)


async def _renter_page(
    request: Request,
    error: FormError | None = None,
    failed_form: str = "",
    kept: dict[str, str] | None = None,
) -> Response:
    """The renter's page; after a refused form, that form (`failed_form`: top-up or adjust) shows the error
    and keeps what was typed (`kept`), with the same idempotency key so that a retry still counts once."""
    api = user_api(request)
    renter_id = request.path_params["renter"]
    details = await api.renters.GetRenter(renters_pb2.GetRenterRequest(renter=renter_id))
    wallet = await api.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter=renter_id))
    rentals = (await api.sessions.ListSessions(sessions_pb2.ListSessionsRequest(renter=renter_id))).sessions
    invoices = (await api.invoices.ListInvoices(invoices_pb2.ListInvoicesRequest(renter=renter_id))).invoices
    currency = wallet.balance.currency or "EUR"
    forms = {
        name: {"amount": "", "currency": currency, "reason": "", "idempotency_key": idempotency_key()}
        for name in ("top-up", "adjust")
    }
    if kept is not None:
        forms[failed_form] = {**forms[failed_form], **kept}
    context = {
        "renter": details,
        "wallet": wallet,
        "entries": sorted(wallet.entries, key=lambda e: e.at.ToNanoseconds(), reverse=True)[:LEDGER_SHOWN],
        "sessions": sorted(rentals, key=lambda s: s.started_at.ToNanoseconds(), reverse=True)[
            :SESSIONS_SHOWN
        ],
        "session_count": len(rentals),
        "invoices": sorted(invoices, key=lambda i: i.issued_at.ToNanoseconds(), reverse=True),
        "money_forms": forms,
        "error": error,
        "failed_form": failed_form,
    }
    return render(request, "admin/renter.html", context, status=status_for(error))


@requires("admin")
async def top_up(request: Request, user: User) -> Response:
    renter_id = request.path_params["renter"]
    fields = await form_fields(request, TOP_UP_FIELDS)
    try:
        wallet = await user_api(request).wallets.TopUp(wallets_pb2.TopUpRequest(renter=renter_id, **fields))
    except Refused as refusal:  # not an amount, an unknown currency, no key
        return await _renter_page(request, FormError.from_refusal(refusal), "top-up", fields)
    notice(request, i18n.gettext("The wallet is topped up: the balance is %(balance)s.")
           % {"balance": i18n.format_money(wallet.balance)})  # fmt: skip
    return see_other(f"/admin/renters/{renter_id}")


@requires("admin")
async def adjust(request: Request, user: User) -> Response:
    renter_id = request.path_params["renter"]
    fields = await form_fields(request, ADJUST_FIELDS)
    try:
        wallet = await user_api(request).wallets.AdjustWallet(
            wallets_pb2.AdjustWalletRequest(renter=renter_id, **fields)
        )
    except Refused as refusal:  # no reason, not an amount, more than the wallet holds
        return await _renter_page(request, FormError.from_refusal(refusal), "adjust", fields)
    notice(request, i18n.gettext("The wallet is adjusted: the balance is %(balance)s.")
           % {"balance": i18n.format_money(wallet.balance)})  # fmt: skip
    return see_other(f"/admin/renters/{renter_id}")


ROUTES = [
    Route("/admin/renters", renters, methods=["GET"]),
    Route("/admin/renters/{renter}", renter, methods=["GET"]),
    Route("/admin/renters/{renter}/top-up", top_up, methods=["POST"]),
    Route("/admin/renters/{renter}/adjust", adjust, methods=["POST"]),
]
