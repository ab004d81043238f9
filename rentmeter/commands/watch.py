"""`rentmeter watch SESSION`: a session's cost, rate, balance and time left, live.

On a terminal the view redraws in place; into a pipe or a file it prints one line per update (one JSON
object per line with `--output json`), so that logs and scripts see every update."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, as_json, remote_options, with_client

if TYPE_CHECKING:
    from google.protobuf.duration_pb2 import Duration
    from rich.table import Table

    from protos.rentmeter.v1 import common_pb2, sessions_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    watch = commands.add_parser("watch", parents=[remote_options(prints=True)], help="a session's cost, live")
    watch.add_argument("session_id")
    watch.set_defaults(handler=watch_session)


@with_client
def watch_session(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import sessions_pb2

    updates = client.sessions.WatchSession(sessions_pb2.GetSessionRequest(session_id=args.session_id))
    if args.output == "json":
        for live in updates:
            print(as_json(live, indent=None), flush=True)
    elif sys.stdout.isatty():
        render_watch(updates)
    else:
        for live in updates:
            print(live_cost_line(live), flush=True)


def hourly_rate(money: common_pb2.Money) -> str:
    """A rate per hour as printed everywhere: `2.90 EUR/h`."""
    import billing
    from billing.invoice import rate_text

    amount = billing.Money(money.minor_units, money.currency).to_decimal()
    return rate_text(str(amount), money.currency, "h")


def live_cost_line(live: sessions_pb2.LiveCost) -> str:
    """One update on one line, for pipes and logs."""
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.output import seconds, when

    state = sessions_pb2.RentalSession.State.Name(live.state).lower()
    line = (
        f"{when(live.at)} session {live.session_id} {state}: cost {live.cost.display}, covered "
        f"{seconds(live.covered_us)} = {live.rated_cost.display}, rate {hourly_rate(live.rate_per_hour)}"
    )
    if live.prepaid:
        line += f", balance {live.balance.display}, time left {_time_left(live)}"
    if live.HasField("pack_time_left"):
        line += f", pack time left {_duration(live.pack_time_left)}"
    if live.HasField("balance_lasts"):
        line += f", lasts {_duration(live.balance_lasts)} at current use"
    return line


def _duration(value: Duration) -> str:
    return str(value.ToTimedelta()).split(".")[0]


def _time_left(live: sessions_pb2.LiveCost) -> str:
    return str(live.time_left.ToTimedelta()).split(".")[0] if live.HasField("time_left") else "-"


def live_cost_panel(live: sessions_pb2.LiveCost) -> Table:
    from rich.table import Table

    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.output import seconds, when

    state = sessions_pb2.RentalSession.State.Name(live.state).lower()
    table = Table(title=f"session {live.session_id} ({state})", show_header=False)
    table.add_row("cost so far", live.cost.display)
    table.add_row("covered by reports", f"{seconds(live.covered_us)} = {live.rated_cost.display}")
    table.add_row("current rate", hourly_rate(live.rate_per_hour))
    if live.prepaid:
        table.add_row("balance left", live.balance.display)
        table.add_row("time left at this rate", _time_left(live))
    if live.HasField("pack_time_left"):
        table.add_row("pack time left", _duration(live.pack_time_left))
    if live.HasField("balance_lasts"):
        table.add_row("at your current use it lasts", _duration(live.balance_lasts))
    table.add_row("updated", when(live.at))
    return table


def render_watch(updates: Iterable[sessions_pb2.LiveCost]) -> None:
    """A live view that redraws on every update until the session stops (Ctrl-C leaves)."""
    from rich.live import Live

    from rentmeter.output import console

    with Live(console=console, auto_refresh=False) as view:
        for live in updates:
            view.update(live_cost_panel(live), refresh=True)
