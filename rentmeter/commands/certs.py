"""`rentmeter certs init`: a private CA, the collector's certificate and agents' client certificates."""

from __future__ import annotations

import argparse

from rentmeter.commands.remote import Commands
from rentmeter.errors import UsageError


def register(commands: Commands) -> None:
    certs = commands.add_parser("certs", help="TLS certificates").add_subparsers(dest="action", required=True)
    init = certs.add_parser("init", help="create a CA, a collector certificate and agent certificates")
    init.add_argument("directory", help="where to write ca.pem, collector.pem, AGENT.pem and their keys")
    init.add_argument("--hostname", action="append", default=[], help="collector host name or IP; repeat")
    init.add_argument("--agent", action="append", default=["agent"], help="agent certificate name; repeat")
    init.set_defaults(handler=certs_init)


def certs_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rentmeter.pki import init_certs

    try:
        files = init_certs(Path(args.directory), args.hostname, list(dict.fromkeys(args.agent)))
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None
    for path in files:
        print(path)
    return 0
