"""`rentmeter quote`: price a planned rental with the billing engine before it starts."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import (
    Commands,
    pairs,
    parse_time,
    remote_options,
    show,
    timestamp,
    with_client,
)
from rentmeter.commands.terms import terms, terms_arguments
from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    quote = commands.add_parser(
        "quote", parents=[remote_options(prints=True)], help="price a planned rental before it starts"
    )
    quote.add_argument("--plan", required=True)
    quote.add_argument(
        "--class", dest="machine_class", default="standard", help="machine class (default standard)"
    )
    quote.add_argument("--duration", required=True, help="how long, e.g. 90m, 2h, 1d")
    quote.add_argument("--start", type=parse_time, help="ISO 8601 start (default now)")
    quote.add_argument("--traffic-in", type=float, default=0.0, metavar="GB", help="expected GB received")
    quote.add_argument("--traffic-out", type=float, default=0.0, metavar="GB", help="expected GB sent")
    quote.add_argument("--busy-cores", type=int, default=0, help="expected busy CPU cores, all along")
    quote.add_argument("--memory-gb", type=float, default=0.0, help="expected used memory, GB")
    quote.add_argument(
        "--gpu", action="append", default=[], metavar="MODEL=COUNT", help="GPUs attached, e.g. A100=2"
    )
    terms_arguments(quote)
    quote.set_defaults(handler=quote_rental)


@with_client
def quote_rental(client: AdminClient, args: argparse.Namespace) -> None:
    from decimal import Decimal, InvalidOperation

    from google.protobuf.duration_pb2 import Duration

    from collector.config import SettingsError, parse_duration
    from protos.rentmeter.v1 import plans_pb2

    try:
        duration = Duration()
        duration.FromTimedelta(parse_duration(args.duration, "duration"))
        rx, tx = (int(Decimal(str(gb)) * 10**9) for gb in (args.traffic_in, args.traffic_out))
    except (SettingsError, InvalidOperation) as exc:
        raise UsageError(str(exc)) from None
    if rx < 0 or tx < 0 or args.busy_cores < 0 or args.memory_gb < 0:
        raise UsageError("expected usage cannot be negative")
    gpus = {}
    for model, count in pairs(args.gpu, "--gpu", "MODEL=COUNT, e.g. A100=2"):
        if not count.isdigit():
            raise UsageError(f"--gpu {model}: the count must be a whole number, not {count!r}")
        gpus[model] = int(count)
    request = plans_pb2.QuoteRequest(
        plan=args.plan, machine_class=args.machine_class, duration=duration, expected_rx_bytes=rx,
        expected_tx_bytes=tx, terms=terms(args), expected_busy_cores=args.busy_cores,
        expected_memory_bytes=int(Decimal(str(args.memory_gb)) * 10**9), gpus=gpus,
    )  # fmt: skip
    if args.start:
        request.start.CopyFrom(timestamp(args.start))
    quoted = client.plans.Quote(request, timeout=30)
    show(args, quoted, lambda: render_quote(quoted))


def render_quote(q: plans_pb2.PriceQuote) -> None:
    from rich.table import Table

    from billing.invoice import rate_text
    from rentmeter.output import console, when

    caption = f"{when(q.start)} to {when(q.end)}; usage as planned, billed as it would be"
    table = Table(title=f"Quote: plan {q.plan}, class {q.machine_class}", caption=caption)
    for column in ("item", "quantity", "rate", "amount"):
        table.add_column(column, justify="left" if column == "item" else "right")
    for line in q.lines:
        currency = line.amount.currency
        rate = rate_text(line.rate, currency, line.rate_unit)
        table.add_row(line.description, f"{line.quantity} {line.unit}", rate, line.amount.display)
    table.add_section()
    table.add_row("total", "", "", q.total.display)
    console.print(table)
