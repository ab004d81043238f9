"""`rentmeter watch SESSION`: a session's cost, rate, balance and time left, live."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, with_client

if TYPE_CHECKING:
    from rich.table import Table

    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    watch = commands.add_parser("watch", parents=[remote_options()], help="a session's cost, live")
    watch.add_argument("session_id")
    watch.set_defaults(handler=watch_session)


@with_client
def watch_session(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import sessions_pb2

    render_watch(client.sessions.WatchSession(sessions_pb2.GetSessionRequest(session_id=args.session_id)))


def live_cost_panel(live: sessions_pb2.LiveCost) -> Table:
    from rich.table import Table

    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.output import seconds, when

    state = sessions_pb2.RentalSession.State.Name(live.state).lower()
    table = Table(title=f"session {live.session_id} ({state})", show_header=False)
    table.add_row("cost so far", live.cost.display)
    table.add_row("covered by reports", f"{seconds(live.covered_us)} = {live.rated_cost.display}")
    table.add_row("current rate", f"{live.rate_per_hour.display} per hour")
    if live.prepaid:
        table.add_row("balance left", live.balance.display)
        left = live.time_left.ToTimedelta() if live.HasField("time_left") else None
        table.add_row("time left at this rate", str(left).split(".")[0] if left is not None else "-")
    table.add_row("updated", when(live.at))
    return table


def render_watch(updates: Iterable[sessions_pb2.LiveCost]) -> None:
    """A live view that redraws on every update until the session stops (Ctrl-C leaves)."""
    from rich.live import Live

    from rentmeter.output import console

    with Live(console=console, auto_refresh=False) as view:
        for live in updates:
            view.update(live_cost_panel(live), refresh=True)
