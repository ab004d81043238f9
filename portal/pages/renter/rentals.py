"""The renter's rentals: the history (/rentals, newest first) and one rental (/rentals/{session_id}): its
figures, the charge explained line by line (SessionService.ExplainSession: the lines and words of
`rentmeter explain`), its usage over time (UsageService.GetUsageSeries) and the invoices that charge it.
Another renter's rental, or a guessed id, is the collector's NOT_FOUND: a 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.api import Api
from portal.auth import User, requires, user_api
from portal.charts import usage_charts
from portal.pages.renter.paying import invoice_status, newest_first
from portal.web import render
from protos.rentmeter.v1 import invoices_pb2, sessions_pb2, usage_pb2


@requires("renter")
async def rental_list(request: Request, user: User) -> Response:
    sessions = (await user_api(request).sessions.ListSessions(sessions_pb2.ListSessionsRequest())).sessions
    rentals = sorted(sessions, key=lambda s: s.started_at.ToNanoseconds(), reverse=True)
    return render(request, "renter/rentals.html", {"rentals": rentals})


@requires("renter")
async def rental_detail(request: Request, user: User) -> Response:
    session_id = request.path_params["session_id"]
    api = user_api(request)
    explanation = await api.sessions.ExplainSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    series = await api.usage.GetUsageSeries(usage_pb2.GetUsageSeriesRequest(session_id=session_id))
    invoices = await _invoices_charging(api, explanation)
    context = {
        "x": explanation,
        "rental": explanation.session,
        "charts": usage_charts(series),
        "invoices": [(invoice, invoice_status(invoice)) for invoice in invoices],
        "rules": [rule for rule in explanation.rules.splitlines() if rule.strip()],
    }
    return render(request, "renter/rental_detail.html", context)


async def _invoices_charging(
    api: Api, explanation: sessions_pb2.SessionExplanation
) -> list[invoices_pb2.Invoice]:
    """The invoices with a line of the session (usually one; a rental across a period's end has two)."""
    ids = dict.fromkeys(line.invoice_id for line in explanation.invoiced)
    found = [await api.invoices.GetInvoice(invoices_pb2.GetInvoiceRequest(invoice_id=i)) for i in ids]
    return newest_first(found)


ROUTES = [
    Route("/rentals", rental_list, methods=["GET"]),
    Route("/rentals/{session_id}", rental_detail, methods=["GET"]),
]
