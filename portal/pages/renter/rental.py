"""The renter's home, "My rental": each open rental with its cost rising live, and a Stop button.

The pattern of a live page: the page renders the figures as they are now (it works without JavaScript);
an element with `sse-connect` (htmx's SSE extension) then swaps in the fragment that the /live endpoint
renders for every update.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.api import Api
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.live import live_now, open_watch, relay, sse_response
from portal.web import FormError, notice, render, see_other, templates
from protos.rentmeter.v1 import invoices_pb2, sessions_pb2

LIVE_FRAGMENT = "renter/_live.html"


def live_fragment(live: sessions_pb2.LiveCost) -> str:
    return templates.get_template(LIVE_FRAGMENT).render(live=live)


@requires("renter")
async def my_rental(request: Request, user: User) -> Response:
    return await _my_rental_page(request)


async def _my_rental_page(request: Request, error: FormError | None = None) -> Response:
    api = user_api(request)
    sessions = (await api.sessions.ListSessions(sessions_pb2.ListSessionsRequest())).sessions
    open_ones = [s for s in sessions if s.state == sessions_pb2.RentalSession.OPEN]
    rentals = [(rental, await live_now(api, rental.session_id)) for rental in open_ones]
    ended = [s for s in sessions if s.state == sessions_pb2.RentalSession.STOPPED]
    last = max(ended, key=lambda s: s.ended_at.ToNanoseconds(), default=None)
    invoice = await _invoice_of(api, last.session_id) if last and not rentals else None
    context = {"rentals": rentals, "last": last, "invoice": invoice, "error": error}
    return render(request, "renter/my_rental.html", context, status=409 if error else 200)


async def _invoice_of(api: Api, session_id: str) -> invoices_pb2.Invoice | None:
    """The newest invoice that charges the session, if it is invoiced yet."""
    invoices = (await api.invoices.ListInvoices(invoices_pb2.ListInvoicesRequest())).invoices
    charging = [i for i in invoices if any(line.session_id == session_id for line in i.lines)]
    return max(charging, key=lambda i: i.issued_at.ToNanoseconds(), default=None)


@requires("renter")
async def live(request: Request, user: User) -> Response:
    """Server-sent events: the rental's figures as HTML, about every second, until it stops."""
    call, first = await open_watch(user_api(request), request.path_params["session_id"])
    return sse_response(relay(request, call, first, live_fragment))


@requires("renter")
async def stop(request: Request, user: User) -> Response:
    session_id = request.path_params["session_id"]
    try:
        await user_api(request).sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    except Refused as refusal:  # e.g. already stopped
        return await _my_rental_page(request, FormError.from_refusal(refusal))
    notice(request, i18n.gettext("Your rental is stopped. The invoice follows with the next billing run."))
    return see_other("/rental")


ROUTES = [
    Route("/rental", my_rental, methods=["GET"]),
    Route("/rental/{session_id}/live", live, methods=["GET"]),
    Route("/rental/{session_id}/stop", stop, methods=["POST"]),
]
