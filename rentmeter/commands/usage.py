"""`rentmeter usage --machine ID | --session ID [--series [--step 30s]]`: measured usage over a range,
whole or step by step (what a chart shows)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, parse_time, remote_options, show, timestamp, with_client
from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import usage_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    usage = commands.add_parser(
        "usage", parents=[remote_options(prints=True)], help="usage of a machine or a session"
    )
    scope = usage.add_mutually_exclusive_group(required=True)
    scope.add_argument("--machine", help="agent id")
    scope.add_argument("--session", help="session id")
    usage.add_argument("--from", dest="start", type=parse_time, help="ISO 8601 start (UTC if no zone)")
    usage.add_argument("--to", dest="end", type=parse_time, help="ISO 8601 end (UTC if no zone)")
    usage.add_argument("--series", action="store_true", help="step by step (at most 1000 steps)")
    usage.add_argument(
        "--step", type=numbers.duration(timedelta(days=366)),
        help="with --series: each step, e.g. 30s, 5m (default: the span in about 120 steps)",
    )  # fmt: skip
    usage.set_defaults(handler=show_usage)


@with_client
def show_usage(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import usage_pb2

    if args.step and not args.series:
        raise UsageError("--step goes with --series")
    if args.series:
        show_series(client, args)
        return
    request = usage_pb2.GetUsageRequest()
    if args.machine:
        request.agent_id = args.machine
    else:
        request.session_id = args.session
    if args.start:
        request.start.CopyFrom(timestamp(args.start))
    if args.end:
        request.end.CopyFrom(timestamp(args.end))
    summary = client.usage.GetUsage(request, timeout=30)
    show(args, summary, lambda: render_usage(summary))


def show_series(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import usage_pb2

    request = usage_pb2.GetUsageSeriesRequest()
    if args.machine:
        request.agent_id = args.machine
    else:
        request.session_id = args.session
    if args.start:
        request.start.CopyFrom(timestamp(args.start))
    if args.end:
        request.end.CopyFrom(timestamp(args.end))
    if args.step:
        request.step.FromTimedelta(args.step)
    series = client.usage.GetUsageSeries(request, timeout=60)
    show(args, series, lambda: render_series(series))


def render_series(s: usage_pb2.UsageSeries) -> None:
    from rich.table import Table

    from rentmeter.output import console, megabytes, seconds, when

    step = s.step.ToTimedelta()
    title = f"usage of {s.agent_id} from {when(s.start)} to {when(s.end)}, every {step}"
    table = Table("from", "covered", "cpu", "in", "out", "peak memory", "gpus", title=title)
    for p in s.points:
        gpus = " ".join(f"{g.index}:{g.average_utilization_percent:.0f} %" for g in p.gpus) or "-"
        traffic = (megabytes(p.net_rx_bytes), megabytes(p.net_tx_bytes))
        cpu = f"{p.cpu_utilization:.1%}"
        table.add_row(
            when(p.start), seconds(p.covered_us), cpu, *traffic, megabytes(p.peak_memory_used_bytes), gpus
        )
    console.print(table)


def render_usage(u: usage_pb2.UsageSummary) -> None:
    from rentmeter.output import console, megabytes, seconds, when

    console.print(
        f"usage of {u.agent_id} from {when(u.start)} to {when(u.end)}\n"
        f"  covered time  {seconds(u.covered_us)}\n"
        f"  cpu busy      {seconds(u.cpu_busy_us)}\n"
        f"  network in    {megabytes(u.net_rx_bytes)}\n"
        f"  network out   {megabytes(u.net_tx_bytes)}\n"
        f"  disk read     {megabytes(u.disk_read_bytes)}\n"
        f"  disk written  {megabytes(u.disk_write_bytes)}\n"
        f"  peak memory   {megabytes(u.peak_memory_used_bytes)}\n"
        f"  samples       {u.sample_count}"
    )
    for g in u.gpus:
        console.print(
            f"  GPU {g.index} ({g.uuid}): {g.average_utilization_percent:.1f} % busy on average, "
            f"{g.energy_mj / 3.6e9:.4f} kWh, peak memory {megabytes(g.peak_memory_used_bytes)}"
        )
