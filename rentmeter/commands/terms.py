"""The rental terms a session start and a quote share: service level, member tier, coupon, resources."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import pairs
from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import plans_pb2


def terms_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service-level", default="", help="a service level the plan offers")
    parser.add_argument("--member-tier", default="", help="the renter's member tier")
    parser.add_argument("--coupon", default="", help="a coupon code of the plan")
    parser.add_argument(
        "--resource", action="append", default=[], metavar="NAME=QUANTITY",
        help="an extra resource held for the whole rental, e.g. storage=500 (GB)",
    )  # fmt: skip


def terms(args: argparse.Namespace) -> plans_pb2.RentalTerms:
    from protos.rentmeter.v1 import plans_pb2

    return plans_pb2.RentalTerms(
        machine_class=getattr(args, "machine_class", "") or "",
        service_level=args.service_level or "",
        member_tier=args.member_tier or "",
        coupon=args.coupon or "",
        resources=_resources(args.resource),
    )


def _resources(items: list[str]) -> dict[str, str]:
    """`--resource NAME=QUANTITY` flags, each quantity a decimal number (sent as plain text)."""
    quantity = numbers.decimal_of("", numbers.MAX_QUANTITY)
    resources = {}
    for name, text in pairs(items, "--resource", "NAME=QUANTITY, e.g. storage=500"):
        try:
            resources[name] = format(quantity(text), "f")
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--resource {name}: {exc}") from None
    return resources
