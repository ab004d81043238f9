"""`rentmeter invoice list|show|export|pay|credit|close|payments|credit-notes`: invoices, their documents,
payments (and the list of attempts: `--failed` is the dunning view), credits (and their list)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, remote_options, show, with_client
from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import invoices_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    invoice = commands.add_parser("invoice", help="invoices").add_subparsers(dest="action", required=True)
    listing = invoice.add_parser("list", parents=[remote_options(prints=True)], help="list invoices")
    listing.add_argument("--renter", default="")
    listing.set_defaults(handler=invoice_list)
    one = invoice.add_parser(
        "show", parents=[remote_options(prints=True)], help="show an invoice with its lines"
    )
    one.add_argument("invoice_id")
    one.set_defaults(handler=invoice_show)
    export = invoice.add_parser(
        "export", parents=[remote_options()], help="write an invoice as PDF, HTML or CSV"
    )
    export.add_argument("invoice_id")
    export.add_argument("--format", choices=["pdf", "html", "csv"], default="pdf")
    export.add_argument("-o", "--output", help="file to write (default: NUMBER.FORMAT here)")
    export.set_defaults(handler=invoice_export)
    pay = invoice.add_parser(
        "pay", parents=[remote_options(prints=True)], help="record a payment received (e.g. bank transfer)"
    )
    pay.add_argument("invoice_id")
    pay.add_argument("--reference", required=True, help="the transfer's reference")
    pay.set_defaults(handler=invoice_pay)
    credit = invoice.add_parser(
        "credit", parents=[remote_options(prints=True)], help="correct an invoice with a credit note"
    )
    credit.add_argument("invoice_id")
    credit.add_argument("--reason", required=True, help="printed on the credit note")
    credit.add_argument(
        "--amount", type=numbers.amount, help="how much, tax included (default: all that is left)"
    )
    credit.set_defaults(handler=invoice_credit)
    close = invoice.add_parser(
        "close", parents=[remote_options(prints=True)], help="close finished billing periods now"
    )
    close.add_argument("--renter", default="")
    close.add_argument("--now", action="store_true", help="also close the current period early (invoice now)")
    close.set_defaults(handler=invoice_close)
    payments = invoice.add_parser(
        "payments", parents=[remote_options(prints=True)], help="payment attempts, newest first"
    )
    payments.add_argument("--invoice", default="", help="of this invoice (number or id)")
    payments.add_argument("--renter", default="")
    payments.add_argument("--failed", action="store_true", help="only failed attempts (dunning)")
    payments.set_defaults(handler=invoice_payments)
    notes = invoice.add_parser(
        "credit-notes", parents=[remote_options(prints=True)], help="credit notes, newest first"
    )
    notes.add_argument("--invoice", default="", help="of this invoice (number or id)")
    notes.add_argument("--renter", default="")
    notes.set_defaults(handler=invoice_credit_notes)


@with_client
def invoice_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.ListInvoicesRequest(renter=args.renter)
    listed = client.invoices.ListInvoices(request, timeout=30)
    show(args, listed, lambda: render_invoices(list(listed.invoices)))


@with_client
def invoice_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.GetInvoiceRequest(invoice_id=args.invoice_id)
    invoice = client.invoices.GetInvoice(request, timeout=30)
    show(args, invoice, lambda: render_invoice(invoice))


@with_client
def invoice_export(client: AdminClient, args: argparse.Namespace) -> None:
    from pathlib import Path

    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.RenderInvoiceRequest(invoice_id=args.invoice_id, format=args.format)
    document = client.invoices.RenderInvoice(request, timeout=60)
    target = Path(args.output or document.filename)
    try:
        target.write_bytes(document.content)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    print(f"{target} ({len(document.content)} bytes, {document.content_type})")


@with_client
def invoice_pay(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.PayInvoiceRequest(invoice_id=args.invoice_id, reference=args.reference)
    invoice = client.invoices.PayInvoice(request, timeout=30)
    show(args, invoice, lambda: render_invoice(invoice))


@with_client
def invoice_credit(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.CreditInvoiceRequest(
        invoice_id=args.invoice_id, amount=args.amount or "", reason=args.reason
    )
    note = client.invoices.CreditInvoice(request, timeout=30)
    show(args, note, lambda: print(
        f"credit note {note.number} for {note.invoice_id}: {note.amount.display} (tax {note.tax.display})"
    ))  # fmt: skip


@with_client
def invoice_close(client: AdminClient, args: argparse.Namespace) -> int:
    """Exit 1 when a renter could not be invoiced (the others were; it is retried by the invoicing job)."""
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.CloseInvoicesRequest(renter=args.renter, invoice_now=args.now)
    closed = client.invoices.CloseInvoices(request, timeout=60)
    show(args, closed, lambda: _render_closed(closed))
    return 1 if closed.failures else 0


def _render_closed(closed: invoices_pb2.CloseInvoicesResponse) -> None:
    if not closed.invoices and not closed.failures:
        print("no billing period was due")
    for invoice in closed.invoices:
        render_invoice(invoice)
    for failure in closed.failures:
        print(f"{failure.subject} could not be invoiced: {failure.error} (error id {failure.error_id}; "
              "retried by the invoicing job, see `rentmeter jobs status`)", file=sys.stderr)  # fmt: skip


@with_client
def invoice_payments(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.ListPaymentsRequest(
        invoice_id=args.invoice, renter=args.renter, failed_only=args.failed
    )
    listed = client.invoices.ListPayments(request, timeout=30)
    show(args, listed, lambda: render_payments(listed))


@with_client
def invoice_credit_notes(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.ListCreditNotesRequest(invoice_id=args.invoice, renter=args.renter)
    listed = client.invoices.ListCreditNotes(request, timeout=30)
    show(args, listed, lambda: render_credit_notes(listed))


def render_payments(listed: invoices_pb2.ListPaymentsResponse) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table("at", "invoice", "renter", "provider", "amount", "outcome", id_column("reference"))
    for p in listed.payments:
        outcome = "paid" if p.succeeded else f"failed: {p.error}"
        table.add_row(when(p.at), p.invoice_number or "top-up", p.renter, p.provider, p.amount.display,
                      outcome, p.reference or "-")  # fmt: skip
    console.print(table)


def render_credit_notes(listed: invoices_pb2.ListCreditNotesResponse) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table("number", id_column("invoice"), "renter", "amount", "tax", "issued", "reason")
    for n in listed.credit_notes:
        table.add_row(n.number, n.invoice_id, n.renter, n.amount.display, n.tax.display, when(n.issued_at),
                      n.reason)  # fmt: skip
    console.print(table)


def render_invoices(items: list[invoices_pb2.Invoice]) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(
        id_column("number"), id_column("invoice"), "renter", "period start", "period end", "lines", "total"
    )
    for i in items:
        table.add_row(
            i.number,
            i.invoice_id,
            i.renter,
            when(i.period_start, zone=i.time_zone),
            when(i.period_end, zone=i.time_zone),
            str(len(i.lines)),
            i.total.display,
        )
    console.print(table)


def render_invoice(i: invoices_pb2.Invoice) -> None:
    from rich.table import Table

    from billing.confidence import basis_text
    from billing.invoice import rate_text
    from rentmeter.output import console, when

    table = Table(title=f"Invoice {i.number} ({i.invoice_id}) - renter {i.renter}")
    period = (
        f"period {when(i.period_start, zone=i.time_zone)} to {when(i.period_end, zone=i.time_zone)}"
        + (f" ({i.time_zone})" if i.time_zone else "")
        + f", issued {when(i.issued_at)}, "
        + (f"paid {when(i.paid_at)}" if i.HasField("paid_at") else "unpaid")
    )
    table.add_column("#", justify="right")
    table.add_column("session", no_wrap=True, overflow="fold")
    for column in ("item", "quantity", "basis", "rate", "amount"):
        table.add_column(column, justify="left" if column in ("item", "basis") else "right")
    for line in i.lines:
        table.add_row(
            str(line.position),
            line.session_id,
            line.description,
            f"{line.quantity} {line.unit}",
            basis_text(line.basis, line.covered_us, line.uncovered_us),
            rate_text(line.rate, i.currency, line.rate_unit),
            line.amount.display,
        )
    table.add_section()
    table.add_row("", "", "net", "", "", "", i.net.display)
    table.add_row("", "", "tax", "", "", "", i.tax.display)
    table.add_row("", "", "total", "", "", "", i.total.display)
    console.print(table)
    console.print(period, soft_wrap=True)
