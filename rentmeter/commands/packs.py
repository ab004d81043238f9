"""`rentmeter packs buy|list`: café-style time packs bought from the wallet."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import wallets_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    packs = commands.add_parser("packs", help="time packs bought from the wallet").add_subparsers(
        dest="action", required=True
    )
    buy = packs.add_parser(
        "buy", parents=[remote_options(prints=True)], help="buy one of a plan's packs from a renter's wallet"
    )
    buy.add_argument("renter")
    buy.add_argument("plan")
    buy.add_argument("pack", help="the pack's name in the plan, e.g. '3 hours'")
    buy.add_argument(
        "--when-used-up", choices=["payg", "stop"], default="payg",
        help="payg: the session goes on, metered, from the wallet (default); stop: it stops",
    )  # fmt: skip
    buy.add_argument("--key", default="", help="idempotency key (default: a new random one)")
    buy.set_defaults(handler=packs_buy)
    listed = packs.add_parser(
        "list",
        parents=[remote_options(prints=True)],
        help="a renter's packs with their time left, and offers",
    )
    listed.add_argument("renter")
    listed.set_defaults(handler=packs_list)


@with_client
def packs_buy(client: AdminClient, args: argparse.Namespace) -> None:
    import secrets

    from protos.rentmeter.v1 import wallets_pb2

    request = wallets_pb2.BuyPackRequest(
        renter=args.renter, plan=args.plan, pack=args.pack, when_used_up=args.when_used_up,
        idempotency_key=args.key or f"cli-{secrets.token_hex(12)}",
    )  # fmt: skip
    pack = client.wallets.BuyPack(request, timeout=30)
    show(args, pack, lambda: render_packs([pack], []))


@with_client
def packs_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import wallets_pb2

    answer = client.wallets.ListPacks(wallets_pb2.ListPacksRequest(renter=args.renter), timeout=30)
    show(args, answer, lambda: render_packs(list(answer.packs), list(answer.offers)))


def pack_time(micros: int) -> str:
    """Pack time as "2 h 05 min"."""
    minutes = micros // 60_000_000
    return f"{minutes // 60} h {minutes % 60:02d} min"


def render_packs(packs: list[wallets_pb2.TimePack], offers: list[wallets_pb2.PackOffer]) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(
        id_column("pack"), "plan", "name", "price", "time", "used", "left", "window", "valid until",
        "when used up", "state", title="time packs (used in this order)",
    )  # fmt: skip
    for p in packs:
        time, left = (
            ("unlimited", "unlimited") if p.unlimited else (pack_time(p.time_us), pack_time(p.left_us))
        )
        table.add_row(str(p.id), p.plan, p.name, p.price.display, time, pack_time(p.used_us), left,
                      p.window or "any time", when(p.valid_until), p.when_used_up, p.state)  # fmt: skip
    console.print(table)
    if offers:
        offered = Table("plan", "pack", "price", "offer", title="packs for sale")
        for o in offers:
            offered.add_row(o.plan, o.name, o.price.display, o.description)
        console.print(offered)
