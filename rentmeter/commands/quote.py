"""`rentmeter quote`: price a planned rental with the billing engine before it starts, under a stored plan
or (`--file`) a plan file not stored yet."""

from __future__ import annotations

import argparse
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from rentmeter import numbers
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
    plan = quote.add_mutually_exclusive_group(required=True)
    plan.add_argument("--plan", help="a stored price plan")
    plan.add_argument("--file", help="a plan file (TOML) to preview, not stored: from its effective_from")
    quote.add_argument(
        "--class", dest="machine_class", default="standard", help="machine class (default standard)"
    )
    quote.add_argument(
        "--duration",
        required=True,
        type=numbers.duration(timedelta(days=366)),
        help="how long, e.g. 90m, 2h, 1d (at most 366 days)",
    )
    quote.add_argument("--start", type=parse_time, help="ISO 8601 start (default now)")
    gigabytes = numbers.decimal_of("GB", numbers.MAX_GB)
    quote.add_argument(
        "--traffic-in", type=gigabytes, default=Decimal(0), metavar="GB", help="expected GB received"
    )
    quote.add_argument(
        "--traffic-out", type=gigabytes, default=Decimal(0), metavar="GB", help="expected GB sent"
    )
    quote.add_argument(
        "--busy-cores", type=numbers.whole("cores", numbers.MAX_COUNT), default=0,
        help="expected busy CPU cores, all along",
    )  # fmt: skip
    quote.add_argument("--memory-gb", type=gigabytes, default=Decimal(0), help="expected used memory, GB")
    quote.add_argument(
        "--gpu", action="append", default=[], metavar="MODEL=COUNT", help="GPUs attached, e.g. A100=2"
    )
    terms_arguments(quote)
    quote.set_defaults(handler=quote_rental)


@with_client
def quote_rental(client: AdminClient, args: argparse.Namespace) -> None:
    from google.protobuf.duration_pb2 import Duration

    from protos.rentmeter.v1 import plans_pb2

    duration = Duration()
    duration.FromTimedelta(args.duration)
    count = numbers.whole("GPUs", numbers.MAX_COUNT)
    gpus = {}
    for model, text in pairs(args.gpu, "--gpu", "MODEL=COUNT, e.g. A100=2"):
        try:
            gpus[model] = count(text)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--gpu {model}: {exc}") from None
    request = plans_pb2.QuoteRequest(
        plan=args.plan or "", document=_document(args.file), machine_class=args.machine_class,
        duration=duration,
        expected_rx_bytes=numbers.gigabytes_to_bytes(args.traffic_in),
        expected_tx_bytes=numbers.gigabytes_to_bytes(args.traffic_out), terms=terms(args),
        expected_busy_cores=args.busy_cores, expected_memory_bytes=numbers.gigabytes_to_bytes(args.memory_gb),
        gpus=gpus,
    )  # fmt: skip
    if args.start:
        request.start.CopyFrom(timestamp(args.start))
    quoted = client.plans.Quote(request, timeout=30)
    show(args, quoted, lambda: render_quote(quoted))


def _document(path: str | None) -> str:
    """The plan file's text ("" without one); a file that cannot be read is a UsageError."""
    if not path:
        return ""
    from pathlib import Path

    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read the plan file {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None


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
