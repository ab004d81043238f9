"""`rentmeter wallet topup|show`: prepaid wallets."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import wallets_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    wallet = commands.add_parser("wallet", help="prepaid wallets").add_subparsers(
        dest="action", required=True
    )
    topup = wallet.add_parser(
        "topup", parents=[remote_options(prints=True)], help="credit a renter's wallet (makes it prepaid)"
    )
    topup.add_argument("renter")
    topup.add_argument("amount", type=numbers.amount, help="e.g. 20.00")
    topup.add_argument("--currency", default="EUR")
    topup.add_argument("--key", default="", help="idempotency key (default: a new random one)")
    topup.set_defaults(handler=wallet_topup)
    one = wallet.add_parser(
        "show", parents=[remote_options(prints=True)], help="balance, holds and ledger entries"
    )
    one.add_argument("renter")
    one.add_argument("--currency", default="")
    one.set_defaults(handler=wallet_show)


@with_client
def wallet_topup(client: AdminClient, args: argparse.Namespace) -> None:
    import secrets

    from protos.rentmeter.v1 import wallets_pb2

    request = wallets_pb2.TopUpRequest(
        renter=args.renter, amount=args.amount, currency=args.currency,
        idempotency_key=args.key or f"cli-{secrets.token_hex(12)}",
    )  # fmt: skip
    wallet = client.wallets.TopUp(request, timeout=30)
    show(args, wallet, lambda: render_wallet(wallet))


@with_client
def wallet_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import wallets_pb2

    request = wallets_pb2.GetWalletRequest(renter=args.renter, currency=args.currency)
    wallet = client.wallets.GetWallet(request, timeout=30)
    show(args, wallet, lambda: render_wallet(wallet))


def render_wallet(w: wallets_pb2.Wallet) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    kind = "prepaid" if w.prepaid else "invoiced (not prepaid)"
    console.print(
        f"wallet of {w.renter}, {kind}: balance {w.balance.display}, held {w.held.display}, "
        f"spendable {w.spendable.display}"
    )
    table = Table(
        "at", id_column("transaction"), "kind", id_column("reference"), id_column("account"), "amount",
        title="ledger entries",
    )  # fmt: skip
    for e in w.entries:
        table.add_row(when(e.at), str(e.transaction_id), e.kind, e.reference, e.account, e.amount.display)
    console.print(table)
