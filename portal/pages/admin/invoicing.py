"""Invoices: every renter's invoices (filtered by renter and state), closing due periods now
(InvoiceService.CloseInvoices), and an invoice's page: lines, downloads, payments, credit notes, a credit
note form (CreditInvoice) and recording a payment received outside rentmeter (PayInvoice).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.pages.admin.common import form_fields, status_for
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import invoices_pb2

STATES = ("all", "unpaid", "paid")
CREDIT_FIELDS = ("amount", "reason")


def is_paid(invoice: invoices_pb2.Invoice) -> bool:
    return invoice.HasField("paid_at")


@requires("admin")
async def invoices(request: Request, user: User) -> Response:
    return await _invoices_page(request)


async def _invoices_page(request: Request, error: FormError | None = None, renter: str = "") -> Response:
    api = user_api(request)
    query = request.query_params
    state = query.get("state", "all") if query.get("state") in STATES else "all"
    wanted = query.get("renter", "").strip()[:200]
    listed = (await api.invoices.ListInvoices(invoices_pb2.ListInvoicesRequest(renter=wanted))).invoices
    shown = [i for i in listed if state == "all" or is_paid(i) == (state == "paid")]
    notes = (
        await api.invoices.ListCreditNotes(invoices_pb2.ListCreditNotesRequest(renter=wanted))
    ).credit_notes
    context = {
        "invoices": sorted(shown, key=lambda i: i.issued_at.ToNanoseconds(), reverse=True),
        "credit_notes": notes,
        "filters": {"state": state, "renter": wanted},
        "states": STATES,
        "close_renter": renter,
        "error": error,
    }
    return render(request, "admin/invoices.html", context, status=status_for(error))


@requires("admin")
async def close(request: Request, user: User) -> Response:
    fields = await form_fields(request, ("renter", "invoice_now"))
    try:
        answer = await user_api(request).invoices.CloseInvoices(
            invoices_pb2.CloseInvoicesRequest(
                renter=fields["renter"], invoice_now=fields["invoice_now"] == "yes"
            )
        )
    except Refused as refusal:
        return await _invoices_page(request, FormError.from_refusal(refusal), fields["renter"])
    made = len(answer.invoices)
    notice(
        request, i18n.ngettext("%(num)d invoice is made.", "%(num)d invoices are made.", made) % {"num": made}
    )
    if answer.failures:
        failed = len(answer.failures)
        notice(request, i18n.ngettext(
            "%(num)d renter could not be invoiced; the invoicing job retries it (see Alerts).",
            "%(num)d renters could not be invoiced; the invoicing job retries them (see Alerts).",
            failed,
        ) % {"num": failed})  # fmt: skip
    return see_other("/admin/invoices")


@requires("admin")
async def invoice(request: Request, user: User) -> Response:
    return await _invoice_page(request)


async def _invoice_page(
    request: Request,
    error: FormError | None = None,
    failed_form: str = "",
    kept: dict[str, str] | None = None,
) -> Response:
    api = user_api(request)
    found = await api.invoices.GetInvoice(
        invoices_pb2.GetInvoiceRequest(invoice_id=request.path_params["invoice"])
    )
    notes = await api.invoices.ListCreditNotes(
        invoices_pb2.ListCreditNotesRequest(invoice_id=found.invoice_id)
    )
    payments = await api.invoices.ListPayments(invoices_pb2.ListPaymentsRequest(invoice_id=found.invoice_id))
    context = {
        "invoice": found,
        "credit_notes": notes.credit_notes,
        "payments": payments.payments,
        "error": error,
        "failed_form": failed_form,
        "kept": kept or {"amount": "", "reason": "", "reference": ""},
    }
    return render(request, "admin/invoice.html", context, status=status_for(error))


@requires("admin")
async def credit(request: Request, user: User) -> Response:
    number = request.path_params["invoice"]
    fields = await form_fields(request, CREDIT_FIELDS)
    try:
        note = await user_api(request).invoices.CreditInvoice(
            invoices_pb2.CreditInvoiceRequest(invoice_id=number, **fields)
        )
    except Refused as refusal:  # no reason, more than is left to credit
        return await _invoice_page(
            request, FormError.from_refusal(refusal), "credit", {**fields, "reference": ""}
        )
    notice(request, i18n.gettext("Credit note %(number)s for %(amount)s is issued.")
           % {"number": note.number, "amount": i18n.format_money(note.amount)})  # fmt: skip
    return see_other(f"/admin/invoices/{quote(number)}")


@requires("admin")
async def pay(request: Request, user: User) -> Response:
    number = request.path_params["invoice"]
    fields = await form_fields(request, ("reference",))
    try:
        await user_api(request).invoices.PayInvoice(
            invoices_pb2.PayInvoiceRequest(invoice_id=number, **fields)
        )
    except Refused as refusal:  # already paid, prepaid, no reference
        kept = {"amount": "", "reason": "", **fields}
        return await _invoice_page(request, FormError.from_refusal(refusal), "pay", kept)
    notice(request, i18n.gettext("The payment is recorded; the invoice is paid."))
    return see_other(f"/admin/invoices/{quote(number)}")


ROUTES = [
    Route("/admin/invoices", invoices, methods=["GET"]),
    Route("/admin/invoices/close", close, methods=["POST"]),
    Route("/admin/invoices/{invoice}", invoice, methods=["GET"]),
    Route("/admin/invoices/{invoice}/credit", credit, methods=["POST"]),
    Route("/admin/invoices/{invoice}/pay", pay, methods=["POST"]),
]
