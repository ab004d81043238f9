"""Sessions: open and recent rentals (filtered by state, renter and machine), starting one
(SessionService.StartSession), and each session's page: its explanation (ExplainSession) and a Stop button.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.pages.admin.common import form_fields, status_for
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import machines_pb2, plans_pb2, sessions_pb2

STATES = ("open", "stopped", "all")
# Most sessions a list shows, newest first.
SHOWN = 200
START_FIELDS = ("agent_id", "renter", "plan")


def _filters(request: Request) -> dict[str, str]:
    query = request.query_params
    state = query.get("state", "open")
    return {
        "state": state if state in STATES else "open",
        "renter": query.get("renter", "").strip()[:200],
        "machine": query.get("machine", "").strip()[:200],
    }


@requires("admin")
async def sessions(request: Request, user: User) -> Response:
    return await _sessions_page(request)


async def _sessions_page(
    request: Request, error: FormError | None = None, start: dict[str, str] | None = None
) -> Response:
    api = user_api(request)
    filters = _filters(request)
    listed = await api.sessions.ListSessions(
        sessions_pb2.ListSessionsRequest(
            renter=filters["renter"], agent_id=filters["machine"], open_only=filters["state"] == "open"
        )
    )
    found = [
        s
        for s in listed.sessions
        if filters["state"] != "stopped" or s.state == sessions_pb2.RentalSession.STOPPED
    ]
    found.sort(key=lambda s: s.started_at.ToNanoseconds(), reverse=True)
    machines = (await api.machines.ListMachines(machines_pb2.ListMachinesRequest())).machines
    plans = (await api.plans.ListPlans(plans_pb2.ListPlansRequest())).plans
    context = {
        "sessions": found[:SHOWN],
        "more": max(0, len(found) - SHOWN),
        "filters": filters,
        "states": STATES,
        "machines": [m for m in machines if not m.HasField("revoked_at")],
        "plans": plans,
        "start": start or dict.fromkeys(START_FIELDS, ""),
        "error": error,
    }
    return render(request, "admin/sessions.html", context, status=status_for(error))


@requires("admin")
async def start(request: Request, user: User) -> Response:
    fields = await form_fields(request, START_FIELDS)
    asked = sessions_pb2.StartSessionRequest(
        agent_id=fields["agent_id"], renter=fields["renter"], plan=fields["plan"]
    )
    try:
        rental = await user_api(request).sessions.StartSession(asked)
    except Refused as refusal:  # unknown plan, a machine already rented, no price for its class ...
        return await _sessions_page(request, FormError.from_refusal(refusal), fields)
    notice(request, i18n.gettext("The session is started."))
    return see_other(f"/admin/sessions/{rental.session_id}")


@requires("admin")
async def session(request: Request, user: User) -> Response:
    return await _session_page(request)


async def _session_page(request: Request, error: FormError | None = None) -> Response:
    session_id = request.path_params["session_id"]
    explanation = await user_api(request).sessions.ExplainSession(
        sessions_pb2.GetSessionRequest(session_id=session_id)
    )
    context = {"explanation": explanation, "rental": explanation.session, "error": error}
    return render(request, "admin/session.html", context, status=409 if error else 200)


@requires("admin")
async def stop(request: Request, user: User) -> Response:
    session_id = request.path_params["session_id"]
    try:
        await user_api(request).sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    except Refused as refusal:  # already stopped
        return await _session_page(request, FormError.from_refusal(refusal))
    notice(request, i18n.gettext("The session is stopped."))
    return see_other(f"/admin/sessions/{session_id}")


ROUTES = [
    Route("/admin/sessions", sessions, methods=["GET"]),
    Route("/admin/sessions", start, methods=["POST"]),
    Route("/admin/sessions/{session_id}", session, methods=["GET"]),
    Route("/admin/sessions/{session_id}/stop", stop, methods=["POST"]),
]
