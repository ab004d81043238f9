"""One of the host's machines: its details, usage over the last hour or day, its sessions and earnings; lock
its screen now, or revoke it.

`/host/machines/{agent_id}`: MachineService.GetMachine with the host's token first, so another host's
machine (or a made-up id) is the collector's NOT_FOUND, a 404 here, before anything else is asked.
Lock is SendControl(LOCK_NOW): the agent runs the host's configured action (README: the agent's control
messages); there is no unlock message, the person at the machine unlocks it as usual. Revoke is
RevokeMachine behind a confirmation: the machine's reports are refused from then on and its open rental
ends now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.api import Api
from portal.auth import User, requires, user_api
from portal.charts import usage_charts
from portal.errors import Refused
from portal.pages.host.view import (
    duration,
    fleet_time,
    machine_name,
    machine_row,
    timestamp,
    viewer_zone_name,
)
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import agent_pb2, fleet_pb2, machines_pb2, sessions_pb2, usage_pb2

# The usage chart's spans: ?span=hour (default) or day, each with the step of its points.
SPANS = {
    "hour": (timedelta(hours=1), timedelta(minutes=1)),
    "day": (timedelta(days=1), timedelta(minutes=15)),
}
EARNINGS_DAYS = 30
SESSIONS_SHOWN = 10
MESSAGE_CHARS = 500  # the collector's limit on a control message


async def usage_series(api: Api, agent_id: str, span: str, now: datetime) -> usage_pb2.UsageSeries:
    length, step = SPANS[span]
    request = usage_pb2.GetUsageSeriesRequest(
        agent_id=agent_id, start=timestamp(now - length), end=timestamp(now), step=duration(step)
    )
    series: usage_pb2.UsageSeries = await api.usage.GetUsageSeries(request)
    return series


async def _machine_page(request: Request, error: FormError | None = None, status: int = 200) -> Response:
    api, agent_id = user_api(request), request.path_params["agent_id"]
    machine = await api.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent_id))
    fleet = await api.fleet.GetFleet(fleet_pb2.GetFleetRequest())
    entry = next((e for e in fleet.machines if e.machine.agent_id == agent_id), None)
    now = fleet_time(fleet)
    span = request.query_params.get("span", "hour")
    span = span if span in SPANS else "hour"
    sessions = (await api.sessions.ListSessions(sessions_pb2.ListSessionsRequest(agent_id=agent_id))).sessions
    newest = sorted(sessions, key=lambda s: s.started_at.ToNanoseconds(), reverse=True)
    earned = await api.fleet.GetEarnings(
        fleet_pb2.GetEarningsRequest(
            agent_id=agent_id,
            start=timestamp(now - timedelta(days=EARNINGS_DAYS)),
            end=timestamp(now),
            time_zone=viewer_zone_name(),
        )
    )
    series = await usage_series(api, agent_id, span, now.replace(microsecond=0))
    context = {
        "machine": machine,
        "name": machine_name(machine),
        "row": machine_row(entry or fleet_pb2.FleetMachine(machine=machine), now),
        "span": span,
        "spans": list(SPANS),
        "series": series,
        "charts": usage_charts(series),
        "sessions": newest[:SESSIONS_SHOWN],
        "session_count": len(sessions),
        "earned": earned,
        "earnings_days": EARNINGS_DAYS,
        "error": error,
        "message_chars": MESSAGE_CHARS,
    }
    return render(request, "host/machine.html", context, status=status)


@requires("host")
async def machine_page(request: Request, user: User) -> Response:
    return await _machine_page(request)


async def _text(request: Request, name: str, limit: int) -> str:
    async with request.form() as form:
        value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


@requires("host")
async def lock(request: Request, user: User) -> Response:
    """LOCK_NOW to the machine's agent; says whether the agent was connected to receive it."""
    agent_id = request.path_params["agent_id"]
    message = await _text(request, "message", MESSAGE_CHARS)
    control = machines_pb2.SendControlRequest(
        agent_id=agent_id, kind=agent_pb2.Control.LOCK_NOW, message=message
    )
    try:
        sent = await user_api(request).machines.SendControl(control)
    except Refused as refusal:
        return await _machine_page(request, FormError.from_refusal(refusal), status=409)
    if sent.delivered:
        notice(request, i18n.gettext("The machine was told to lock its screen."))
    else:
        notice(request, i18n.gettext("The machine is not connected now, so it could not be locked."))
    return see_other(f"/host/machines/{agent_id}")


@requires("host")
async def revoke(request: Request, user: User) -> Response:
    agent_id = request.path_params["agent_id"]
    reason = await _text(request, "reason", 200)
    revoking = machines_pb2.RevokeMachineRequest(agent_id=agent_id, reason=reason)
    try:
        await user_api(request).machines.RevokeMachine(revoking)
    except Refused as refusal:  # e.g. revoked already
        return await _machine_page(request, FormError.from_refusal(refusal), status=409)
    notice(request, i18n.gettext("The machine is revoked: its reports are refused from now on."))
    return see_other(f"/host/machines/{agent_id}")


ROUTES = [
    Route("/host/machines/{agent_id}", machine_page, methods=["GET"]),
    Route("/host/machines/{agent_id}/lock", lock, methods=["POST"]),
    Route("/host/machines/{agent_id}/revoke", revoke, methods=["POST"]),
]
