"""Time packs on the wallet page: the renter's packs with their time left (in the order rentals use them),
the packs the plans offer, and the request that buys one from the wallet (WalletService.BuyPack, once
per form key; wallet.py's /wallet/packs sends it)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from portal import i18n
from portal.api import Api
from portal.auth import User
from portal.i18n import N_
from portal.web import notice
from protos.rentmeter.v1 import wallets_pb2

STATES = {"active": N_("Active"), "used up": N_("Used up"), "expired": N_("Expired")}
WHEN_USED_UP = {"payg": N_("Go on and pay from the wallet"), "stop": N_("Stop the rental")}
SEPARATOR = "\x1f"  # between plan and pack names in the form's choice (neither may contain it)


async def packs_context(api: Api, renter: str, known: bool) -> dict[str, Any]:
    """The wallet page's packs and offers (none for a renter the collector does not know yet)."""
    if not known:
        return {"packs": [], "offers": [], "pack_states": STATES, "when_used_up": WHEN_USED_UP}
    answer = await api.wallets.ListPacks(wallets_pb2.ListPacksRequest(renter=renter))
    return {
        "packs": list(answer.packs),
        "offers": [(f"{o.plan}{SEPARATOR}{o.name}", o) for o in answer.offers],
        "pack_states": STATES,
        "when_used_up": WHEN_USED_UP,
    }


def buy_request(user: User, form: Any) -> wallets_pb2.BuyPackRequest:
    """WalletService.BuyPack for the wallet page's pack form."""
    choice, when, key = (str(form.get(name, "")) for name in ("offer", "when_used_up", "key"))
    plan, _, pack = choice.partition(SEPARATOR)
    return wallets_pb2.BuyPackRequest(
        renter=user.subject, plan=plan, pack=pack, when_used_up=when, idempotency_key=key
    )


def bought_notice(request: Request, bought: wallets_pb2.TimePack) -> None:
    message = i18n.gettext("You bought the %(pack)s pack for %(price)s.")
    notice(request, message % {"pack": bought.name, "price": i18n.format_money(bought.price)})
