"""Payments: what is owed and how its collection stands (unpaid invoices: failed card attempts so far and
the next one — the dunning steps — or a bank transfer awaited), and every payment attempt, newest first
(InvoiceService.ListPayments; only the failed ones on request). A transfer received is recorded on the
invoice's page (PayInvoice).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import User, requires, user_api
from portal.web import render
from protos.rentmeter.v1 import common_pb2, invoices_pb2

# Most payment attempts listed.
SHOWN = 200


@requires("admin")
async def payments(request: Request, user: User) -> Response:
    api = user_api(request)
    failed_only = request.query_params.get("failed") == "yes"
    listed = await api.invoices.ListPayments(invoices_pb2.ListPaymentsRequest(failed_only=failed_only))
    invoices = (await api.invoices.ListInvoices(invoices_pb2.ListInvoicesRequest())).invoices
    unpaid = sorted(
        (i for i in invoices if not i.HasField("paid_at")), key=lambda i: i.issued_at.ToNanoseconds()
    )
    context = {
        "payments": listed.payments[:SHOWN],
        "failed_only": failed_only,
        "unpaid": unpaid,
        "owed": _totals(unpaid),
    }
    return render(request, "admin/payments.html", context)


def _totals(invoices: list[invoices_pb2.Invoice]) -> list[common_pb2.Money]:
    """The invoices' totals summed per currency."""
    sums: dict[str, int] = {}
    for invoice in invoices:
        sums[invoice.total.currency] = sums.get(invoice.total.currency, 0) + invoice.total.minor_units
    return [
        common_pb2.Money(minor_units=minor, currency=currency) for currency, minor in sorted(sums.items())
    ]


ROUTES = [Route("/admin/payments", payments, methods=["GET"])]
