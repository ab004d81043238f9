"""Fleet: every machine by class and state, what the open sessions earn per hour now (GetFleet)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import User, requires, user_api
from portal.i18n import N_
from portal.web import render
from protos.rentmeter.v1 import fleet_pb2

# A machine's state as the page names it (N_ msgids, translated in the template).
REVOKED, IN_USE, ONLINE, OFFLINE = N_("revoked"), N_("in use"), N_("online"), N_("offline")
# The badge each state wears (portal.css: .badge.ok, .warn, .bad).
TONES = {IN_USE: "ok", ONLINE: "", OFFLINE: "warn", REVOKED: "bad"}


def machine_state(machine: fleet_pb2.FleetMachine) -> str:
    """revoked, in use (an open session), online or offline (no report within the online window)."""
    if machine.machine.HasField("revoked_at"):
        return REVOKED
    if machine.session_id:
        return IN_USE
    return ONLINE if machine.machine.online else OFFLINE


@requires("admin")
async def fleet(request: Request, user: User) -> Response:
    answer = await user_api(request).fleet.GetFleet(fleet_pb2.GetFleetRequest())
    machines = sorted(answer.machines, key=lambda m: (m.machine.machine_class, m.machine.agent_id))
    states = [(m, machine_state(m)) for m in machines]
    counts = {state: sum(1 for _, s in states if s == state) for state in (IN_USE, ONLINE, OFFLINE, REVOKED)}
    context = {"fleet": answer, "machines": states, "counts": counts, "tones": TONES}
    return render(request, "admin/fleet.html", context)


ROUTES = [Route("/admin/fleet", fleet, methods=["GET"])]
