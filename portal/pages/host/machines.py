"""The host's machines: each with its state, last report, renter and session, utilisation now.

`/host/machines` is FleetService.GetFleet with the host's token (the collector lists only the host's own
machines). The table refreshes itself: htmx fetches `/host/machines/table` every 10 s and swaps it in;
without JavaScript the page is as it was when loaded (reload for news).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import User, requires, user_api
from portal.pages.host.view import MachineRow, fleet_time, machine_row
from portal.web import render
from protos.rentmeter.v1 import fleet_pb2

TABLE_FRAGMENT = "host/_machines_table.html"


async def _fleet(request: Request) -> dict[str, object]:
    fleet = await user_api(request).fleet.GetFleet(fleet_pb2.GetFleetRequest())
    now = fleet_time(fleet)
    rows: list[MachineRow] = [machine_row(entry, now) for entry in fleet.machines]
    return {"fleet": fleet, "rows": rows}


@requires("host")
async def machines(request: Request, user: User) -> Response:
    return render(request, "host/machines.html", await _fleet(request))


@requires("host")
async def machines_table(request: Request, user: User) -> Response:
    """The table alone, for the page's periodic refresh."""
    return render(request, TABLE_FRAGMENT, await _fleet(request))


ROUTES = [
    Route("/host/machines", machines, methods=["GET"]),
    Route("/host/machines/table", machines_table, methods=["GET"]),
]
