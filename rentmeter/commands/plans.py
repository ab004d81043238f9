"""`rentmeter plan create|add-version|show|list`: price plans, from flags or from a plan file."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, pairs, remote_options, show, with_client
from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    plan = commands.add_parser("plan", help="price plans").add_subparsers(dest="action", required=True)
    create = plan.add_parser(
        "create", parents=[remote_options(prints=True)], help="create a price plan (from flags or --file)"
    )
    create.add_argument("name", nargs="?", help="plan name (with --file: taken from the file)")
    create.add_argument("--file", help="a TOML plan document (see README, Price plans)")
    create.add_argument("--currency", help="ISO 4217 code, e.g. EUR")
    create.add_argument(
        "--hourly",
        action="append",
        default=[],
        metavar="CLASS=PRICE",
        help="price of one hour for a machine class; repeat for more classes",
    )
    create.add_argument("--traffic-in", help="price per GB received (default 0)")
    create.add_argument("--traffic-out", help="price per GB sent (default 0)")
    create.add_argument(
        "--increment", help="bill a session's time in whole increments, e.g. 1m (default 1 µs)"
    )
    create.add_argument("--minimum", help="bill a session at least this long, e.g. 15m, 1h (default none)")
    create.set_defaults(handler=plan_create)
    version = plan.add_parser(
        "add-version",
        parents=[remote_options(prints=True)],
        help="add a version of a plan, in force from its effective_from",
    )
    version.add_argument("name")
    version.add_argument("--file", required=True, help="the new version's TOML plan document")
    version.set_defaults(handler=plan_add_version)
    one = plan.add_parser(
        "show", parents=[remote_options(prints=True)], help="show one plan, its versions and rules"
    )
    one.add_argument("name")
    one.set_defaults(handler=plan_show)
    plan.add_parser("list", parents=[remote_options(prints=True)], help="list plans").set_defaults(
        handler=plan_list
    )


@with_client
def plan_create(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import plans_pb2

    document = _document_from_file(args) if args.file else _document_from_flags(args)
    plan = client.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=document), timeout=30)
    show(args, plan, lambda: render_plans([plan]))


@with_client
def plan_add_version(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import plans_pb2

    document = _read_document(args.file, args.name)
    request = plans_pb2.AddPlanVersionRequest(name=args.name, document=document)
    plan = client.plans.AddPlanVersion(request, timeout=30)
    show(args, plan, lambda: render_plans([plan]))


@with_client
def plan_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import plans_pb2

    plan = client.plans.GetPlan(plans_pb2.GetPlanRequest(name=args.name), timeout=30)
    show(args, plan, lambda: render_plans([plan]))


@with_client
def plan_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import plans_pb2

    listed = client.plans.ListPlans(plans_pb2.ListPlansRequest(), timeout=30)
    show(args, listed, lambda: render_plans(list(listed.plans)))


def _document_from_flags(args: argparse.Namespace) -> str:
    from billing.durations import parse_duration_us
    from billing.plan_file import PlanFileError, parse_plan, simple_document

    if not (args.name and args.currency and args.hourly):
        raise UsageError("plan create needs NAME, --currency and --hourly CLASS=PRICE (or --file)")
    rates = dict(pairs(args.hourly, "--hourly", "CLASS=PRICE, e.g. standard=1.20"))
    for flag in ("increment", "minimum"):
        if getattr(args, flag):
            try:
                parse_duration_us(getattr(args, flag))
            except ValueError as exc:
                raise UsageError(f"--{flag}: {exc}") from None
    document = simple_document(
        args.name, args.currency, rates, args.traffic_in or "", args.traffic_out or "",
        increment=args.increment or "", minimum=args.minimum or "",
    )  # fmt: skip
    try:
        parse_plan(document, "flags")
    except PlanFileError as exc:
        raise UsageError(re.sub(r"^flags:(\d+:)? ", "", str(exc))) from None
    return document


def _document_from_file(args: argparse.Namespace) -> str:
    flags = (args.currency, args.hourly, args.traffic_in, args.traffic_out, args.increment, args.minimum)
    if any(flags):
        raise UsageError("give the plan either as --file or as flags, not both")
    return _read_document(args.file, args.name)


def _read_document(path: str, name: str | None) -> str:
    """The plan document in `path`, checked here first so that errors name the file's lines."""
    from pathlib import Path

    from billing.plan_file import PlanFileError, parse_plan

    try:
        document = Path(path).read_text()
        parsed = parse_plan(document, path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except PlanFileError as exc:
        raise UsageError(str(exc)) from None
    if name and name != parsed.name:
        raise UsageError(f"{path} describes plan {parsed.name!r}, not {name!r}")
    return document


def render_plans(items: list[plans_pb2.PricePlan]) -> None:
    from rich.table import Table

    from rentmeter.output import console, when

    for p in items:
        table = Table("version", "in force from", "rules", title=f"plan {p.name} ({p.currency})")
        for v in p.versions:
            table.add_row(str(v.number), when(v.effective_from), "\n".join(v.rules))
        console.print(table)
