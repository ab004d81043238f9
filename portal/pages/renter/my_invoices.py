"""The renter's invoices: the list (/invoices: number, period, total, paid or not) and one invoice
(/invoices/{number}: its lines, payments and credit notes, and the documents to download, which
portal/pages/invoices.py serves at /invoices/{number}/{format}). An unpaid invoice in CNY can be paid by
Alipay or WeChat Pay where the collector has them (POST /invoices/{number}/pay: its order's page, qr_pay.py).
Another renter's invoice, or a guessed number, is the collector's NOT_FOUND: a 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.pages.renter import qr_pay
from portal.pages.renter.paying import PAID, invoice_status, newest_first
from portal.web import FormError, render
from protos.rentmeter.v1 import disputes_pb2, invoices_pb2


@requires("renter")
async def invoice_list(request: Request, user: User) -> Response:
    answer = await user_api(request).invoices.ListInvoices(invoices_pb2.ListInvoicesRequest())
    invoices = [(invoice, invoice_status(invoice)) for invoice in newest_first(list(answer.invoices))]
    return render(request, "renter/invoices.html", {"invoices": invoices})


@requires("renter")
async def invoice_detail(request: Request, user: User) -> Response:
    return await invoice_page(request)


async def invoice_page(request: Request, error: FormError | None = None) -> Response:
    """The invoice's page, with `error` above its forms (paying, disputing a line) when one was refused."""
    api = user_api(request)
    invoice = await api.invoices.GetInvoice(
        invoices_pb2.GetInvoiceRequest(invoice_id=request.path_params["invoice_id"])
    )
    invoice_id = invoice.invoice_id
    payments = await api.invoices.ListPayments(invoices_pb2.ListPaymentsRequest(invoice_id=invoice_id))
    notes = await api.invoices.ListCreditNotes(invoices_pb2.ListCreditNotesRequest(invoice_id=invoice_id))
    disputes = await api.disputes.ListDisputes(disputes_pb2.ListDisputesRequest())
    state = invoice_status(invoice)
    payable = state != PAID and invoice.currency == qr_pay.CURRENCY
    context = {
        "invoice": invoice,
        "state": state,
        "payments": payments.payments,
        "credit_notes": notes.credit_notes,
        "gateways": await qr_pay.gateways_offered(api) if payable else [],
        "error": error,
        "disputed": {d.line: d for d in disputes.disputes if d.invoice_id == invoice_id},
    }
    return render(request, "renter/invoice.html", context, status=409 if error else 200)


@requires("renter")
async def pay_invoice(request: Request, user: User) -> Response:
    """An Alipay or WeChat Pay order for the invoice's total, then its page (QR code and link)."""
    form = await request.form()
    ask = qr_pay.order_request(
        request, user, str(form.get("gateway", "")).strip(), invoice_id=request.path_params["invoice_id"]
    )
    try:
        return await qr_pay.open_order(request, ask)
    except Refused as refusal:  # paid meanwhile, a gateway not configured or refusing
        return await invoice_page(request, FormError.from_refusal(refusal))


ROUTES = [
    Route("/invoices", invoice_list, methods=["GET"]),
    # /invoices/{invoice_id}/{format} (the documents) is portal/pages/invoices.py's: one more segment.
    Route("/invoices/{invoice_id}", invoice_detail, methods=["GET"]),
    Route("/invoices/{invoice_id}/pay", pay_invoice, methods=["POST"]),
]
