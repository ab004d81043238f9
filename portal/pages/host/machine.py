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

import asyncio
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.api import Api
from portal.auth import User, requires, user_api
from portal.charts import usage_charts
from portal.errors import Refused
from portal.pages.host.view import (
    MachineRow,
    duration,
    fleet_time,
    gap_text,
    machine_name,
    machine_row,
    timestamp,
    viewer_zone_name,
)
from portal.web import FormError, form_fields, notice, render, see_other
from protos.rentmeter.v1 import agent_pb2, fleet_pb2, machines_pb2, sessions_pb2, usage_pb2

# The usage chart's spans: ?span=hour (default) or day, each with the step of its points.
SPANS = {
    "hour": (timedelta(hours=1), timedelta(minutes=1)),
    "day": (timedelta(days=1), timedelta(minutes=15)),
}
EARNINGS_DAYS = 30
SESSIONS_SHOWN = 10
NOW_FRAGMENT = "host/_machine_now.html"
MESSAGE_CHARS = 500  # the collector's limit on a control message


async def usage_series(api: Api, agent_id: str, span: str, now: datetime) -> usage_pb2.UsageSeries:
    length, step = SPANS[span]
    request = usage_pb2.GetUsageSeriesRequest(
        agent_id=agent_id, start=timestamp(now - length), end=timestamp(now), step=duration(step)
    )
    series: usage_pb2.UsageSeries = await api.usage.GetUsageSeries(request)
    return series


async def earned_lately(api: Api, agent_id: str, now: datetime) -> fleet_pb2.Earnings:
    """What the machine earned in the last EARNINGS_DAYS days, per currency."""
    request = fleet_pb2.GetEarningsRequest(
        agent_id=agent_id,
        start=timestamp(now - timedelta(days=EARNINGS_DAYS)),
        end=timestamp(now),
        time_zone=viewer_zone_name(),
    )
    earned: fleet_pb2.Earnings = await api.fleet.GetEarnings(request)
    return earned


async def _machine_page(request: Request, error: FormError | None = None, status: int = 200) -> Response:
    api, agent_id = user_api(request), request.path_params["agent_id"]
    span = request.query_params.get("span", "hour")
    span = span if span in SPANS else "hour"
    # The machine first: another host's (or a made-up id) is a 404 before anything else is asked.
    machine = await api.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent_id))
    now = datetime.now(UTC).replace(microsecond=0)
    fleet, listed, earned, series = await asyncio.gather(
        api.fleet.GetFleet(fleet_pb2.GetFleetRequest()),
        api.sessions.ListSessions(sessions_pb2.ListSessionsRequest(agent_id=agent_id)),
        earned_lately(api, agent_id, now),
        usage_series(api, agent_id, span, now),
    )
    sessions = sorted(listed.sessions, key=lambda s: s.started_at.ToNanoseconds(), reverse=True)
    context = {
        "machine": machine,
        "name": machine_name(machine),
        "row": row_of(fleet, machine),
        "span": span,
        "charts": usage_charts(series),
        "reported": any(point.covered_us for point in series.points),
        "sessions": sessions[:SESSIONS_SHOWN],
        "session_count": len(sessions),
        "earned": earned,
        "earnings_days": EARNINGS_DAYS,
        "gaps": [(gap, gap_text(gap)) for gap in machine.gaps],
        "error": error,
    }
    return render(request, "host/machine.html", context, status=status)


@requires("host")
async def machine_page(request: Request, user: User) -> Response:
    return await _machine_page(request)


@requires("host")
async def machine_now(request: Request, user: User) -> Response:
    """The figures alone, for the page's periodic refresh."""
    api, agent_id = user_api(request), request.path_params["agent_id"]
    machine = await api.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent_id))
    fleet = await api.fleet.GetFleet(fleet_pb2.GetFleetRequest())
    return render(request, NOW_FRAGMENT, {"row": row_of(fleet, machine)})


def row_of(fleet: fleet_pb2.Fleet, machine: machines_pb2.Machine) -> MachineRow:
    """The machine's row as the fleet has it (a machine just revoked may have left the fleet view)."""
    entry = next((e for e in fleet.machines if e.machine.agent_id == machine.agent_id), None)
    return machine_row(entry or fleet_pb2.FleetMachine(machine=machine), fleet_time(fleet))


@requires("host")
async def lock(request: Request, user: User) -> Response:
    """LOCK_NOW to the machine's agent; says whether the agent was connected to receive it."""
    agent_id = request.path_params["agent_id"]
    message = (await form_fields(request, ("message",), MESSAGE_CHARS))["message"]
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
    reason = (await form_fields(request, ("reason",), 200))["reason"]
    revoking = machines_pb2.RevokeMachineRequest(agent_id=agent_id, reason=reason)
    try:
        await user_api(request).machines.RevokeMachine(revoking)
    except Refused as refusal:  # e.g. revoked already
        return await _machine_page(request, FormError.from_refusal(refusal), status=409)
    notice(request, i18n.gettext("The machine is revoked: its reports are refused from now on."))
    return see_other(f"/host/machines/{agent_id}")


ROUTES = [
    Route("/host/machines/{agent_id}", machine_page, methods=["GET"]),
    Route("/host/machines/{agent_id}/now", machine_now, methods=["GET"]),
    Route("/host/machines/{agent_id}/lock", lock, methods=["POST"]),
    Route("/host/machines/{agent_id}/revoke", revoke, methods=["POST"]),
]
