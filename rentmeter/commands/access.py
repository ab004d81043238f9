"""`rentmeter access create|list|revoke`: API tokens and their roles (admin only)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import access_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    access = commands.add_parser("access", help="API tokens (admin)").add_subparsers(
        dest="action", required=True
    )
    grant = access.add_parser(
        "create", parents=[remote_options(prints=True)], help="a new API token, shown once"
    )
    grant.add_argument(
        "--role",
        choices=["admin", "host", "renter", "gateway"],
        required=True,
        help="gateway: the portal's token for payment notifications (no subject)",
    )
    grant.add_argument("--subject", default="", help="the host account or renter it speaks for")
    grant.add_argument("--label", default="")
    grant.set_defaults(handler=access_create)
    access.add_parser(
        "list", parents=[remote_options(prints=True)], help="API tokens (never the tokens themselves)"
    ).set_defaults(handler=access_list)
    withdraw = access.add_parser(
        "revoke", parents=[remote_options(prints=True)], help="refuse an API token from now on"
    )
    withdraw.add_argument("id", type=numbers.whole("", numbers.MAX_ID, minimum=1), help="the token's id")
    withdraw.set_defaults(handler=access_revoke)


@with_client
def access_create(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import access_pb2

    request = access_pb2.CreateApiTokenRequest(role=args.role, subject=args.subject, label=args.label)
    created = client.access.CreateApiToken(request, timeout=30)
    show(args, created, lambda: print(created.token))


@with_client
def access_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import access_pb2

    listed = client.access.ListApiTokens(access_pb2.ListApiTokensRequest(), timeout=30)
    show(args, listed, lambda: render_api_tokens(list(listed.tokens)))


@with_client
def access_revoke(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import access_pb2

    request = access_pb2.RevokeApiTokenRequest(id=args.id)
    revoked = client.access.RevokeApiToken(request, timeout=30)
    show(args, revoked, lambda: render_api_tokens([revoked]))


def render_api_tokens(items: list[access_pb2.ApiToken]) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(id_column("id"), "role", "subject", "label", "created", "revoked")
    for t in items:
        table.add_row(str(t.id), t.role, t.subject or "-", t.label, when(t.created_at), when(t.revoked_at))
    console.print(table)
