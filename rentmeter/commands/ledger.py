"""`rentmeter ledger check`: prove that the double-entry ledger's debits equal its credits."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import wallets_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    ledger = commands.add_parser("ledger", help="the double-entry ledger").add_subparsers(
        dest="action", required=True
    )
    ledger.add_parser(
        "check", parents=[remote_options(prints=True)], help="prove that debits equal credits (exit 1 if not)"
    ).set_defaults(handler=ledger_check)


@with_client
def ledger_check(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import wallets_pb2

    check = client.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest(), timeout=60)
    show(args, check, lambda: render_ledger_check(check))
    return 0 if check.balanced else 1


def render_ledger_check(c: wallets_pb2.LedgerCheck) -> None:
    from rentmeter.output import console

    sums = ", ".join(
        f"debits {d.display} = credits {k.display}" for d, k in zip(c.debits, c.credits, strict=False)
    )
    verdict = "balanced" if c.balanced else f"NOT balanced: transactions {list(c.unbalanced_transactions)}"
    console.print(f"ledger {verdict}: {c.transactions} transactions, {c.entries} entries; {sums or 'empty'}")
