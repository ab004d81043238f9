"""`rentmeter token create`: one-time enrollment tokens for new machines."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import machines_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    token = commands.add_parser("token", help="enrollment tokens").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser(
        "create", parents=[remote_options(prints=True)], help="create a one-time enrollment token"
    )
    create.add_argument(
        "--class", dest="machine_class", default="standard", help="machine class (default standard)"
    )
    create.add_argument(
        "--ttl", default="24h", type=numbers.duration(timedelta(days=30)),
        help="validity, e.g. 30m, 24h, 7d (default 24h, at most 30 days)",
    )  # fmt: skip
    create.add_argument("--label", default="", help="free text shown in listings")
    create.set_defaults(handler=token_create)


@with_client
def token_create(client: AdminClient, args: argparse.Namespace) -> None:
    from google.protobuf.duration_pb2 import Duration

    from protos.rentmeter.v1 import machines_pb2

    ttl = Duration()
    ttl.FromTimedelta(args.ttl)
    request = machines_pb2.CreateEnrollmentTokenRequest(
        machine_class=args.machine_class, ttl=ttl, label=args.label
    )
    response = client.machines.CreateEnrollmentToken(request, timeout=30)
    show(args, response, lambda: _render_token(response))


def _render_token(response: machines_pb2.CreateEnrollmentTokenResponse) -> None:
    print(response.token)
    print(f"valid once, until {response.expires_at.ToDatetime(tzinfo=UTC).isoformat()}", file=sys.stderr)
