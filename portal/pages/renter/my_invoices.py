"""The renter's invoices: the list (/invoices: number, period, total, paid or not) and one invoice
(/invoices/{number}: its lines, payments and credit notes, and the documents to download, which
portal/pages/invoices.py serves at /invoices/{number}/{format}). Another renter's invoice, or a guessed
number, is the collector's NOT_FOUND: a 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import User, requires, user_api
from portal.pages.renter.paying import invoice_status, newest_first
from portal.web import render
from protos.rentmeter.v1 import invoices_pb2


@requires("renter")
async def invoice_list(request: Request, user: User) -> Response:
    answer = await user_api(request).invoices.ListInvoices(invoices_pb2.ListInvoicesRequest())
    invoices = [(invoice, invoice_status(invoice)) for invoice in newest_first(list(answer.invoices))]
    return render(request, "renter/invoices.html", {"invoices": invoices})


@requires("renter")
async def invoice_detail(request: Request, user: User) -> Response:
    api = user_api(request)
    invoice = await api.invoices.GetInvoice(
        invoices_pb2.GetInvoiceRequest(invoice_id=request.path_params["invoice_id"])
    )
    invoice_id = invoice.invoice_id
    payments = await api.invoices.ListPayments(invoices_pb2.ListPaymentsRequest(invoice_id=invoice_id))
    notes = await api.invoices.ListCreditNotes(invoices_pb2.ListCreditNotesRequest(invoice_id=invoice_id))
    context = {
        "invoice": invoice,
        "state": invoice_status(invoice),
        "payments": payments.payments,
        "credit_notes": notes.credit_notes,
    }
    return render(request, "renter/invoice.html", context)


ROUTES = [
    Route("/invoices", invoice_list, methods=["GET"]),
    # /invoices/{invoice_id}/{format} (the documents) is portal/pages/invoices.py's: one more segment.
    Route("/invoices/{invoice_id}", invoice_detail, methods=["GET"]),
]
