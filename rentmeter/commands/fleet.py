"""`rentmeter fleet show|earnings|alerts`: the fleet at a glance, what machines earned, what needs attention.

`fleet alerts` exits 1 when there is any alert, so that a cron job or a monitor can act on it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, parse_time, remote_options, show, timestamp, with_client
from rentmeter.commands.renters import time_zone

if TYPE_CHECKING:
    from protos.rentmeter.v1 import fleet_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    fleet = commands.add_parser("fleet", help="the fleet: machines, earnings, alerts").add_subparsers(
        dest="action", required=True
    )
    overview = fleet.add_parser(
        "show", parents=[remote_options(prints=True)],
        help="machines with their state, session, rate and utilisation; counts per class; revenue per hour",
    )  # fmt: skip
    overview.add_argument("--host", default="", help="only this host's machines (admin)")
    overview.set_defaults(handler=fleet_show)
    earned = fleet.add_parser(
        "earnings", parents=[remote_options(prints=True)], help="what machines earned per day, week or month"
    )
    earned.add_argument("--period", choices=["day", "week", "month"], default="day")
    earned.add_argument("--timezone", type=time_zone, default="", help="IANA time zone of the periods (UTC)")
    earned.add_argument("--from", dest="start", type=parse_time, help="ISO 8601 start (default: 30 days ago)")
    earned.add_argument("--to", dest="end", type=parse_time, help="ISO 8601 end (default: now)")
    earned.add_argument("--machine", default="", help="only this machine (agent id)")
    earned.add_argument("--host", default="", help="only this host's machines (admin)")
    earned.set_defaults(handler=fleet_earnings)
    alerts = fleet.add_parser(
        "alerts", parents=[remote_options(prints=True)], help="what needs attention now (exit 1 if anything)"
    )
    alerts.set_defaults(handler=fleet_alerts)


@with_client
def fleet_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import fleet_pb2

    view = client.fleet.GetFleet(fleet_pb2.GetFleetRequest(host=args.host), timeout=30)
    show(args, view, lambda: render_fleet(view))


@with_client
def fleet_earnings(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import fleet_pb2

    request = fleet_pb2.GetEarningsRequest(
        period=args.period, time_zone=args.timezone, agent_id=args.machine, host=args.host
    )
    if args.start:
        request.start.CopyFrom(timestamp(args.start))
    if args.end:
        request.end.CopyFrom(timestamp(args.end))
    earned = client.fleet.GetEarnings(request, timeout=60)
    show(args, earned, lambda: render_earnings(earned, args.timezone))


@with_client
def fleet_alerts(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import fleet_pb2

    listed = client.fleet.ListAlerts(fleet_pb2.ListAlertsRequest(), timeout=30)
    show(args, listed, lambda: render_alerts(listed))
    return 1 if listed.alerts else 0


def render_fleet(f: fleet_pb2.Fleet) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(
        id_column("machine"), "class", "state", id_column("session"), "renter", "rate", "cpu", "gpus",
        "last report", title=f"fleet at {when(f.at)}",
    )  # fmt: skip
    for m in f.machines:
        state = "revoked" if m.machine.HasField("revoked_at") else "online" if m.machine.online else "offline"
        rate = f"{m.rate_per_hour.display}/h" if m.session_id else "-"
        gpus = " ".join(f"{p} %" for p in m.gpu_utilization_percent) or "-"
        table.add_row(m.machine.agent_id, m.machine.machine_class, state, m.session_id or "-",
                      m.renter or "-", rate, f"{m.cpu_utilization:.0%}", gpus,
                      when(m.machine.last_seen, m.machine.HasField("last_seen")))  # fmt: skip
    console.print(table)
    counts = Table("class", "online", "offline", "rented", "revoked", title="machines per class")
    for c in f.classes:
        counts.add_row(c.machine_class, str(c.online), str(c.offline), str(c.rented), str(c.revoked))
    console.print(counts)
    revenue = ", ".join(f"{m.display}/h" for m in f.revenue_per_hour) or "nothing rented"
    console.print(f"revenue now: {revenue}")


def render_earnings(e: fleet_pb2.Earnings, zone: str) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(id_column("machine"), "period from", "invoiced", "not invoiced yet", "sessions", "rented")
    for r in e.rows:
        table.add_row(r.agent_id, when(r.period_start, zone=zone), r.invoiced.display, r.uninvoiced.display,
                      str(r.sessions), f"{r.rented_seconds / 3600:,.2f} h")  # fmt: skip
    console.print(table)
    console.print("total: " + (", ".join(t.display for t in e.totals) or "nothing earned"))


def render_alerts(listed: fleet_pb2.ListAlertsResponse) -> None:
    from rentmeter.output import console, when

    if not listed.alerts:
        console.print("nothing needs attention")
    for a in listed.alerts:
        since = f" (since {when(a.since)})" if a.HasField("since") else ""
        console.print(f"{a.kind}: {a.message}{since}")
