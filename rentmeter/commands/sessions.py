"""`rentmeter session start|stop|show|list`: rental sessions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client
from rentmeter.commands.terms import terms, terms_arguments

if TYPE_CHECKING:
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    session = commands.add_parser("session", help="rental sessions").add_subparsers(
        dest="action", required=True
    )
    start = session.add_parser("start", parents=[remote_options(prints=True)], help="start renting a machine")
    start.add_argument("--machine", required=True, help="agent id")
    start.add_argument("--renter", required=True)
    start.add_argument("--plan", required=True)
    start.add_argument(
        "--class", dest="machine_class", default="", help="machine class (default: matched from the machine)"
    )
    terms_arguments(start)
    start.set_defaults(handler=session_start)
    for name, handler in (("stop", session_stop), ("show", session_show)):
        sub = session.add_parser(name, parents=[remote_options(prints=True)], help=f"{name} a session")
        sub.add_argument("session_id")
        sub.set_defaults(handler=handler)
    listing = session.add_parser("list", parents=[remote_options(prints=True)], help="list sessions")
    listing.add_argument("--renter", default="")
    listing.add_argument("--machine", default="")
    listing.add_argument("--open", action="store_true", help="only open sessions")
    listing.set_defaults(handler=session_list)


@with_client
def session_start(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import sessions_pb2

    request = sessions_pb2.StartSessionRequest(
        agent_id=args.machine, renter=args.renter, plan=args.plan, terms=terms(args)
    )
    started = client.sessions.StartSession(request, timeout=30)
    show(args, started, lambda: render_sessions([started]))


@with_client
def session_stop(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import sessions_pb2

    request = sessions_pb2.StopSessionRequest(session_id=args.session_id)
    stopped = client.sessions.StopSession(request, timeout=30)
    show(args, stopped, lambda: render_sessions([stopped]))


@with_client
def session_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import sessions_pb2

    request = sessions_pb2.GetSessionRequest(session_id=args.session_id)
    found = client.sessions.GetSession(request, timeout=30)
    show(args, found, lambda: render_sessions([found]))


@with_client
def session_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import sessions_pb2

    request = sessions_pb2.ListSessionsRequest(renter=args.renter, agent_id=args.machine, open_only=args.open)
    listed = client.sessions.ListSessions(request, timeout=30)
    show(args, listed, lambda: render_sessions(list(listed.sessions)))


def render_sessions(items: list[sessions_pb2.RentalSession]) -> None:
    from rich.table import Table

    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.output import console, id_column, seconds, when

    table = Table(
        id_column("session"),
        id_column("machine"),
        "renter",
        "plan",
        "state",
        "started",
        "ended",
        "covered",
        "cost",
    )
    for s in items:
        table.add_row(
            s.session_id,
            s.agent_id,
            s.renter,
            s.plan,
            sessions_pb2.RentalSession.State.Name(s.state),
            when(s.started_at),
            when(s.ended_at, s.HasField("ended_at")),
            seconds(s.covered_us),
            s.cost.display,
        )
    console.print(table)
