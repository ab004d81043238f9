"""`rentmeter wallet topup|request-topup|adjust|show`: prepaid wallets."""

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
    charged = wallet.add_parser(
        "request-topup", parents=[remote_options(prints=True)],
        help="top a wallet up by charging the renter's card on file (a renter's token: its own)",
    )  # fmt: skip
    charged.add_argument("renter")
    charged.add_argument("amount", type=numbers.amount, help="e.g. 20.00")
    charged.add_argument("--currency", default="EUR")
    charged.add_argument("--key", default="", help="idempotency key (default: a new random one)")
    charged.set_defaults(handler=wallet_request_topup)
    adjust = wallet.add_parser(
        "adjust", parents=[remote_options(prints=True)], help="correct a wallet up or down, with a reason"
    )
    adjust.add_argument("renter")
    adjust.add_argument("amount", type=numbers.signed_amount, help="e.g. 5.00, or -5.00 to take it back")
    adjust.add_argument("--reason", required=True, help="the renter sees it with the ledger entry")
    adjust.add_argument("--currency", default="EUR")
    adjust.add_argument("--key", default="", help="idempotency key (default: a new random one)")
    adjust.set_defaults(handler=wallet_adjust)
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
def wallet_request_topup(client: AdminClient, args: argparse.Namespace) -> None:
    import secrets

    from protos.rentmeter.v1 import wallets_pb2

    request = wallets_pb2.TopUpRequest(
        renter=args.renter, amount=args.amount, currency=args.currency,
        idempotency_key=args.key or f"cli-{secrets.token_hex(12)}",
    )  # fmt: skip
    wallet = client.wallets.RequestTopUp(request, timeout=60)
    show(args, wallet, lambda: render_wallet(wallet))


@with_client
def wallet_adjust(client: AdminClient, args: argparse.Namespace) -> None:
    import secrets

    from protos.rentmeter.v1 import wallets_pb2

    request = wallets_pb2.AdjustWalletRequest(
        renter=args.renter, amount=args.amount, currency=args.currency, reason=args.reason,
        idempotency_key=args.key or f"cli-{secrets.token_hex(12)}",
    )  # fmt: skip
    wallet = client.wallets.AdjustWallet(request, timeout=30)
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
