"""`rentmeter offers list|rules|add-rule|delete-rule`: offers made to renters, and the provider's rules
that make them (README: Usage insights and offers)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import insights_pb2
    from rentmeter.client import AdminClient


def _days(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 366:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 1 to 366")
    return int(text)


def register(commands: Commands) -> None:
    offers = commands.add_parser(
        "offers", help="offers to renters and the rules that make them"
    ).add_subparsers(dest="action", required=True)
    listed = offers.add_parser(
        "list", parents=[remote_options(prints=True)], help="offers still to apply or applying"
    )
    listed.add_argument("--renter", default="", help="one renter's (a renter's token: its own)")
    listed.add_argument("--all", dest="ended_too", action="store_true", help="ended offers too")
    listed.set_defaults(handler=offers_list)
    rules = offers.add_parser("rules", parents=[remote_options(prints=True)], help="the offer rules (admin)")
    rules.set_defaults(handler=offers_rules)
    add = offers.add_parser(
        "add-rule",
        parents=[remote_options(prints=True)],
        help="a rule: renters meeting a condition over the last days are offered a plan, tier or coupon",
    )
    add.add_argument("name")
    add.add_argument(
        "--condition",
        required=True,
        choices=["rented_hours", "night_share"],
        help="rented_hours: hours rented; night_share: %% of rented time 23:00-07:00",
    )
    add.add_argument("--threshold", required=True, help="at least this many hours, or percent")
    add.add_argument("--window", type=_days, default=30, help="days looked at (default 30)")
    add.add_argument("--plan", default="", help="the plan offered (coupons belong to a plan)")
    add.add_argument("--member-tier", default="", help="the member tier offered")
    add.add_argument("--coupon", default="", help="the coupon offered (of --plan)")
    add.add_argument("--valid", type=_days, default=30, help="days the offer applies (default 30)")
    add.set_defaults(handler=offers_add_rule)
    delete = offers.add_parser(
        "delete-rule", parents=[remote_options()], help="remove a rule (its offers stay until they end)"
    )
    delete.add_argument("name")
    delete.set_defaults(handler=offers_delete_rule)


@with_client
def offers_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import insights_pb2

    request = insights_pb2.ListOffersRequest(renter=args.renter, ended_too=args.ended_too)
    listed = client.insights.ListOffers(request, timeout=30)
    show(args, listed, lambda: render_offers(listed))


@with_client
def offers_rules(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import insights_pb2

    listed = client.insights.ListOfferRules(insights_pb2.ListOfferRulesRequest(), timeout=30)
    show(args, listed, lambda: render_rules(list(listed.rules)))


@with_client
def offers_add_rule(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import insights_pb2

    rule = insights_pb2.OfferRule(
        name=args.name,
        condition=args.condition,
        threshold=args.threshold,
        window_days=args.window,
        plan=args.plan,
        member_tier=args.member_tier,
        coupon=args.coupon,
        valid_days=args.valid,
    )
    created = client.insights.CreateOfferRule(rule, timeout=30)
    show(args, created, lambda: render_rules([created]))


@with_client
def offers_delete_rule(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import insights_pb2

    client.insights.DeleteOfferRule(insights_pb2.DeleteOfferRuleRequest(name=args.name), timeout=30)
    print(f"offer rule {args.name} deleted", flush=True)


def terms_text(plan: str, member_tier: str, coupon: str) -> str:
    """What an offer gives, e.g. "plan night coupon NIGHT10"."""
    parts = [("plan", plan), ("tier", member_tier), ("coupon", coupon)]
    return " ".join(f"{what} {name}" for what, name in parts if name) or "-"


def render_offers(listed: insights_pb2.ListOffersResponse) -> None:
    from rich.table import Table

    from rentmeter.output import console, when

    table = Table("renter", "rule", "plan", "member tier", "coupon", "applies from", "until", "why")
    for o in listed.offers:
        table.add_row(
            o.renter,
            o.rule,
            o.plan or "(any)",
            o.member_tier or "-",
            o.coupon or "-",
            when(o.valid_from),
            when(o.valid_until),
            o.reason,
        )
    console.print(table if listed.offers else "no offers")


def render_rules(rules: list[insights_pb2.OfferRule]) -> None:
    from rich.table import Table

    from rentmeter.output import console

    table = Table("rule", "condition", "over", "offers", "valid")
    for r in rules:
        unit = " h" if r.condition == "rented_hours" else " % at night"
        offered = " ".join(
            x
            for x in (
                f"plan {r.plan}" * bool(r.plan),
                f"tier {r.member_tier}" * bool(r.member_tier),
                f"coupon {r.coupon}" * bool(r.coupon),
            )
            if x
        )
        table.add_row(r.name, f">= {r.threshold}{unit}", f"{r.window_days} d", offered, f"{r.valid_days} d")
    console.print(table if rules else "no offer rules")
