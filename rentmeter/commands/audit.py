"""`rentmeter audit list|verify`: the hash-chained audit log, through the collector's API (admin).

`audit verify` exits 1 when the chain is broken, naming the first entry that was edited, removed or
reordered (`collector audit-verify --db URL` does the same against the database directly)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import audit_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    audit = commands.add_parser("audit", help="the audit log").add_subparsers(dest="action", required=True)
    listing = audit.add_parser("list", parents=[remote_options(prints=True)], help="entries, newest first")
    listing.add_argument("--before", type=numbers.whole("id", numbers.MAX_ID), default=0,
                         help="only entries older than this id (the next page)")  # fmt: skip
    listing.add_argument("--limit", type=numbers.whole("entries", 1000, minimum=1), default=100,
                         help="how many (at most 1000)")  # fmt: skip
    listing.add_argument("--actor", default="", help="only actors starting with this, e.g. host: or admin")
    listing.add_argument("--action", default="", help="only actions starting with this, e.g. ledger:")
    listing.set_defaults(handler=audit_list)
    check = audit.add_parser(
        "verify", parents=[remote_options(prints=True)], help="check the hash chain (exit 1 if broken)"
    )
    check.set_defaults(handler=audit_verify)


@with_client
def audit_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import audit_pb2

    request = audit_pb2.ListAuditEntriesRequest(
        before_id=args.before, limit=args.limit, actor=args.actor, action=args.action
    )
    listed = client.audit.ListAuditEntries(request, timeout=30)
    show(args, listed, lambda: render_entries(listed, args.limit))


@with_client
def audit_verify(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import audit_pb2

    result = client.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), timeout=300)
    if args.output == "json":
        show(args, result, lambda: None)
    elif result.intact:
        print(f"audit log intact: {result.entries} entries")
    else:
        print(f"audit log BROKEN at entry {result.broken_at}: {result.reason}", file=sys.stderr)
    return 0 if result.intact else 1


def render_entries(listed: audit_pb2.ListAuditEntriesResponse, limit: int) -> None:
    from rich.table import Table

    from rentmeter.output import console, when

    table = Table("id", "at", "actor", "action", "details")
    for e in listed.entries:
        table.add_row(str(e.id), when(e.at), e.actor, e.action, e.details)
    console.print(table)
    if len(listed.entries) == limit:
        console.print(f"older entries: rentmeter audit list --before {listed.entries[-1].id}")
