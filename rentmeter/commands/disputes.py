"""`rentmeter disputes open|list|show|evidence|resolve`: disputes of invoice lines, and
`rentmeter verify-evidence FILE`: an evidence bundle checked offline, without a collector."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, remote_options, show, with_client
from rentmeter.errors import EXIT_REFUSED, UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import disputes_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    disputes = commands.add_parser("disputes", help="disputes of invoice lines")
    actions = disputes.add_subparsers(dest="action", required=True)
    opened = actions.add_parser("open", parents=[remote_options(prints=True)], help="dispute an invoice line")
    opened.add_argument("invoice_id", help="the invoice's number or id")
    opened.add_argument("line", type=int, help="the line's number (# in `rentmeter invoice show`)")
    opened.add_argument("--reason", required=True, help="what is wrong with the line")
    opened.set_defaults(handler=disputes_open)
    listing = actions.add_parser("list", parents=[remote_options(prints=True)], help="list disputes")
    listing.add_argument("--renter", default="")
    listing.set_defaults(handler=disputes_list)
    one = actions.add_parser("show", parents=[remote_options(prints=True)], help="show a dispute")
    one.add_argument("dispute_id")
    one.set_defaults(handler=disputes_show)
    evidence = actions.add_parser("evidence", parents=[remote_options()], help="save a dispute's evidence")
    evidence.add_argument("dispute_id")
    evidence.add_argument("-o", "--output", help="file to write (default: DISPUTE-evidence.json here)")
    evidence.set_defaults(handler=disputes_evidence)
    resolve = actions.add_parser(
        "resolve", parents=[remote_options(prints=True)], help="credit or reject a dispute (provider)"
    )
    resolve.add_argument("dispute_id")
    resolve.add_argument("decision", choices=["credit", "reject"])
    resolve.add_argument("--reason", required=True, help="shown to the renter (on the credit note)")
    resolve.add_argument("--amount", type=numbers.amount, help="credit this much (default: see README)")
    resolve.set_defaults(handler=disputes_resolve)
    verify = commands.add_parser(
        "verify-evidence", help="check a dispute's evidence bundle offline and re-rate it"
    )
    verify.add_argument("file", type=Path)
    verify.set_defaults(handler=verify_evidence)


@with_client
def disputes_open(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import disputes_pb2

    if args.line < 0:
        raise UsageError(f"line must be 0 or more, not {args.line}")
    request = disputes_pb2.OpenDisputeRequest(invoice_id=args.invoice_id, line=args.line, reason=args.reason)
    dispute = client.disputes.OpenDispute(request, timeout=60)
    show(args, dispute, lambda: render_dispute(dispute))


@with_client
def disputes_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import disputes_pb2

    listed = client.disputes.ListDisputes(disputes_pb2.ListDisputesRequest(renter=args.renter), timeout=30)
    show(args, listed, lambda: render_disputes(list(listed.disputes)))


@with_client
def disputes_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import disputes_pb2

    dispute = client.disputes.GetDispute(
        disputes_pb2.GetDisputeRequest(dispute_id=args.dispute_id), timeout=30
    )
    show(args, dispute, lambda: render_dispute(dispute))


@with_client
def disputes_evidence(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import disputes_pb2

    request = disputes_pb2.GetDisputeRequest(dispute_id=args.dispute_id, with_evidence=True)
    dispute = client.disputes.GetDispute(request, timeout=60)
    target = Path(args.output or dispute.evidence_filename)
    try:
        target.write_bytes(dispute.evidence)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    print(f"{target} ({len(dispute.evidence)} bytes, {dispute.report_count} signed reports)")


@with_client
def disputes_resolve(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import disputes_pb2

    request = disputes_pb2.ResolveDisputeRequest(
        dispute_id=args.dispute_id, decision=args.decision, amount=args.amount or "", reason=args.reason
    )
    dispute = client.disputes.ResolveDispute(request, timeout=60)
    show(args, dispute, lambda: render_dispute(dispute))


def verify_evidence(args: argparse.Namespace) -> int:
    """Exit 0 when every report verifies, 1 with a sentence per problem otherwise (2: unreadable file)."""
    from billing import Money
    from collector.api.evidence_wire import READING
    from collector.invoicing.evidence_check import EvidenceError, check_bundle

    try:
        verdict = check_bundle(args.file.read_bytes(), READING)
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    except EvidenceError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    if not verdict.ok:
        for problem in verdict.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"error: {args.file} does not verify: do not trust it", file=sys.stderr)
        return EXIT_REFUSED
    money = lambda minor: str(Money(minor, verdict.currency))  # noqa: E731
    print(f"{verdict.reports} signed reports verify with the machine's key, no sequence number missing")
    print(f"line as invoiced: {money(verdict.line_minor)}; re-rated from the evidence: "
          f"{money(verdict.rerated_minor)}")  # fmt: skip
    print(f"session in the invoice's period, re-rated: {money(verdict.session_minor)}")
    return 0


def render_disputes(items: list[disputes_pb2.Dispute]) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(
        id_column("dispute"), "invoice", "line", "renter", "opened", "status", "invoiced", "re-rated"
    )
    for d in items:
        table.add_row(d.dispute_id, d.invoice_number, str(d.line), d.renter, when(d.opened_at), d.status,
                      d.line_amount.display, d.rerated.display)  # fmt: skip
    console.print(table)


def render_dispute(d: disputes_pb2.Dispute) -> None:
    from rentmeter.output import when

    print(f"dispute {d.dispute_id}: line {d.line} of invoice {d.invoice_number} ({d.renter}), {d.status}")
    print(f"  line: {d.line_description}: {d.line_amount.display}")
    print(f"  re-rated from {d.report_count} signed reports: {d.rerated.display}")
    print(f"  opened {when(d.opened_at)}: {d.reason}")
    if d.status != "open":
        note = f" (credit note {d.credit_note_number})" if d.credit_note_number else ""
        print(f"  {d.status} {when(d.resolved_at)}{note}: {d.resolution}")
