"""The host's earnings: what its machines earned per day, week or month (FleetService.GetEarnings with the
host's token: its machines only), in the viewer's time zone.

`/host/earnings?period=day|week|month` (a GET form): the last 30 days, 12 weeks or 12 months, from the
start of the first local period to now. Shown: the totals per currency, a chart per currency of what was
earned in each period (invoiced, and not invoiced yet), a table per machine, and each machine class's
occupancy by hour of the week (InsightsService.GetFleetProfile: the host's own machines).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.charts import Chart, Line, major_units, money_chart
from portal.i18n import N_
from portal.pages.host.view import machine_name, timestamp, viewer_zone_name
from portal.web import render
from portal.week_grid import class_views
from protos.rentmeter.v1 import common_pb2, fleet_pb2, insights_pb2, machines_pb2

# The periods offered, each with how many of them are shown back from now.
PERIODS = {"day": 30, "week": 12, "month": 12}
PERIOD_LABELS = {"day": N_("Per day"), "week": N_("Per week"), "month": N_("Per month")}


def period_start(moment: datetime, period: str, zone: tzinfo) -> datetime:
    """The start of the local day, week (from Monday) or month holding `moment`, in UTC."""
    day = moment.astimezone(zone).date()
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    return _local_midnight(day, zone)


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def period_starts(now: datetime, period: str, zone: tzinfo) -> list[datetime]:
    """The starts of the last PERIODS[period] local periods up to the one holding `now`, oldest first."""
    starts = [period_start(now, period, zone)]
    for _ in range(PERIODS[period] - 1):
        starts.insert(0, period_start(starts[0] - timedelta(hours=1), period, zone))
    return starts


@dataclass
class MachineEarnings:
    """One machine's earnings in one currency over the whole span."""

    agent_id: str
    name: str
    currency: str
    invoiced: int = 0  # minor units
    uninvoiced: int = 0
    sessions: int = 0  # counted per period: a rental across two periods counts in both
    rented_seconds: float = 0.0

    def money(self, minor_units: int) -> common_pb2.Money:
        return common_pb2.Money(minor_units=minor_units, currency=self.currency)


def per_machine(rows: list[fleet_pb2.EarningsRow], names: dict[str, str]) -> list[MachineEarnings]:
    totals: dict[tuple[str, str], MachineEarnings] = {}
    for row in rows:
        key = (row.agent_id, row.currency)
        found = totals.setdefault(
            key, MachineEarnings(row.agent_id, names.get(row.agent_id, row.agent_id), row.currency)
        )
        found.invoiced += row.invoiced.minor_units
        found.uninvoiced += row.uninvoiced.minor_units
        found.sessions += row.sessions
        found.rented_seconds += row.rented_seconds
    return sorted(totals.values(), key=lambda m: (m.currency, -(m.invoiced + m.uninvoiced), m.name))


def charts(rows: list[fleet_pb2.EarningsRow], starts: list[datetime]) -> list[Chart]:
    """Per currency: invoiced and not yet invoiced earnings in each period (zero where nothing)."""
    at = {int(start.timestamp()): index for index, start in enumerate(starts)}
    sums: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([0] * len(starts), [0] * len(starts)))
    for row in rows:
        index = at.get(row.period_start.seconds)
        if index is not None:
            sums[row.currency][0][index] += row.invoiced.minor_units
            sums[row.currency][1][index] += row.uninvoiced.minor_units
    return [
        money_chart(
            i18n.gettext("Earned in %(currency)s") % {"currency": currency},
            currency,
            starts,
            [
                Line(i18n.gettext("Invoiced"), [major_units(v, currency) for v in invoiced]),
                Line(i18n.gettext("Not invoiced yet"), [major_units(v, currency) for v in uninvoiced]),
            ],
        )
        for currency, (invoiced, uninvoiced) in sorted(sums.items())
    ]


@requires("host")
async def earnings_page(request: Request, user: User) -> Response:
    period = request.query_params.get("period", "day")
    period = period if period in PERIODS else "day"
    api, zone = user_api(request), i18n.current().time_zone
    now = datetime.now(UTC)
    starts = period_starts(now, period, zone)
    earned = await api.fleet.GetEarnings(
        fleet_pb2.GetEarningsRequest(
            start=timestamp(starts[0]), end=timestamp(now), period=period, time_zone=viewer_zone_name()
        )
    )
    machines = (await api.machines.ListMachines(machines_pb2.ListMachinesRequest())).machines
    names = {m.agent_id: machine_name(m) for m in machines}
    # The host's own machines' classes, whatever it asked (InsightsService.GetFleetProfile).
    fleet = await api.insights.GetFleetProfile(insights_pb2.GetFleetProfileRequest())
    context = {
        "period": period,
        "periods": PERIOD_LABELS,
        "count": PERIODS[period],
        "since": starts[0],
        "earned": earned,
        "machines": per_machine(list(earned.rows), names),
        "charts": charts(list(earned.rows), starts),
        "classes": class_views(fleet),
    }
    return render(request, "host/earnings.html", context)


ROUTES = [Route("/host/earnings", earnings_page, methods=["GET"])]
