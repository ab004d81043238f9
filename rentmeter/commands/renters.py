"""`rentmeter renter list|show|set|export|erase`: renter accounts and their data."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, parse_time, remote_options, show, timestamp, with_client
from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import renters_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    renter = commands.add_parser("renter", help="renter accounts").add_subparsers(
        dest="action", required=True
    )
    listing = renter.add_parser("list", parents=[remote_options(prints=True)], help="renters by id (admin)")
    listing.add_argument("--query", default="", help="only renters whose id contains this")
    listing.add_argument("--after", default="", help="only renters after this id (the next page)")
    listing.add_argument("--limit", type=numbers.whole("renters", 1000, minimum=1), default=100)
    listing.set_defaults(handler=renter_list)
    one = renter.add_parser("show", parents=[remote_options(prints=True)], help="a renter's account")
    one.add_argument("renter")
    one.set_defaults(handler=renter_show)
    update = renter.add_parser(
        "set", parents=[remote_options(prints=True)], help="set a renter's billing cycle or e-mail"
    )
    update.add_argument("renter")
    update.add_argument(
        "--cycle", choices=["hourly", "daily", "weekly", "monthly", "session", "default"],
        help="billing cycle; session = pay as you go, invoiced when each session ends",
    )  # fmt: skip
    update.add_argument("--anchor", type=parse_time, help="ISO 8601 instant the cycle counts from")
    update.add_argument(
        "--timezone", type=time_zone,
        help="IANA time zone whose local midnights end the renter's billing periods, e.g. Asia/Shanghai "
        "('none': UTC boundaries as before; 'UTC' means UTC midnights)",
    )  # fmt: skip
    update.add_argument("--email", help="where invoices and alerts go ('' to remove)")
    update.add_argument("--payment-method", choices=["stripe", "transfer"], help="how invoices are paid")
    update.add_argument("--customer", help="the payment provider's customer id (e.g. cus_...)")
    update.add_argument("--source", help="the payment provider's payment method id (e.g. pm_...)")
    update.set_defaults(handler=renter_set)
    export = renter.add_parser(
        "export", parents=[remote_options()], help="everything kept about a renter, as JSON"
    )
    export.add_argument("renter")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(handler=renter_export)
    erase = renter.add_parser(
        "erase", parents=[remote_options(prints=True)], help="erase a renter's data (invoices stay)"
    )
    erase.add_argument("renter")
    erase.set_defaults(handler=renter_erase)


@with_client
def renter_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import renters_pb2

    request = renters_pb2.ListRentersRequest(query=args.query, after=args.after, limit=args.limit)
    listed = client.renters.ListRenters(request, timeout=30)
    show(args, listed, lambda: render_renters(listed, args.limit))


@with_client
def renter_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import renters_pb2

    renter = client.renters.GetRenter(renters_pb2.GetRenterRequest(renter=args.renter), timeout=30)
    show(args, renter, lambda: render_renter(renter))


@with_client
def renter_set(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import renters_pb2

    request = renters_pb2.UpdateRenterRequest(renter=args.renter)
    if args.cycle is not None:
        request.billing_cycle = "" if args.cycle == "default" else args.cycle
    if args.anchor is not None:
        request.cycle_anchor.CopyFrom(timestamp(args.anchor))
    if args.timezone is not None:
        request.time_zone = args.timezone
    if args.email is not None:
        request.email = args.email
    if args.payment_method is not None:
        request.payment_method = "" if args.payment_method == "transfer" else args.payment_method
    if args.customer is not None:
        request.payment_customer = args.customer
    if args.source is not None:
        request.payment_source = args.source
    renter = client.renters.UpdateRenter(request, timeout=30)
    show(args, renter, lambda: render_renter(renter))


@with_client
def renter_export(client: AdminClient, args: argparse.Namespace) -> None:
    from pathlib import Path

    from protos.rentmeter.v1 import renters_pb2

    document = client.renters.ExportRenter(renters_pb2.GetRenterRequest(renter=args.renter), timeout=60).json
    if not args.output:
        print(document)
        return
    try:
        Path(args.output).write_text(document + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None


@with_client
def renter_erase(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import renters_pb2

    erased = client.renters.EraseRenter(renters_pb2.GetRenterRequest(renter=args.renter), timeout=60)
    show(args, erased, lambda: print(
        f"renter {args.renter} erased; login names removed from {erased.reports_cleared} reports"
    ))  # fmt: skip


def time_zone(text: str) -> str:
    """An IANA time zone name ("none" = no zone: ""), checked here so that a typo is one sentence."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if text.strip().lower() == "none":
        return ""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not an IANA time zone such as Europe/Berlin") from None
    return text


def render_renters(listed: renters_pb2.ListRentersResponse, limit: int) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(id_column("renter"), "kind", "cycle", "time zone", "invoiced until", "e-mail", "pays by")
    for r in listed.renters:
        table.add_row(r.renter, "prepaid" if r.prepaid else "invoiced", r.billing_cycle or "default",
                      r.time_zone or "UTC", when(r.invoiced_until), r.email or "-",
                      r.payment_method or "bank transfer")  # fmt: skip
    console.print(table)
    if len(listed.renters) == limit:
        console.print(f"next page: rentmeter renter list --after {listed.renters[-1].renter}")


def render_renter(r: renters_pb2.Renter) -> None:
    from rentmeter.output import console, when

    cycle = f"{r.billing_cycle} from {when(r.cycle_anchor)}" if r.billing_cycle else "the collector's period"
    cycle += f", in {r.time_zone}" if r.time_zone else ""
    console.print(
        f"renter {r.renter} ({'prepaid' if r.prepaid else 'invoiced'}): billing cycle {cycle}; "
        f"invoiced until {when(r.invoiced_until)}, next invoice {when(r.next_invoice_at)}; "
        f"e-mail {r.email or '-'}; pays by {r.payment_method or 'bank transfer'}"
    )
