"""`rentmeter insights renter|fleet|refresh`: how renters and machine classes are used, the plan
recommendation, with charts (`--chart FILE.png` or `.svg`)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from rentmeter.commands.remote import Commands, as_json, remote_options, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import insights_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    insights = commands.add_parser("insights", help="usage profiles and plan recommendations").add_subparsers(
        dest="action", required=True
    )
    renter = insights.add_parser(
        "renter",
        parents=[remote_options(prints=True)],
        help="a renter's profile, its plan recommendation and its offers",
    )
    renter.add_argument("renter", help="renter id (a renter's token: its own)")
    renter.add_argument("--chart", default="", help="also draw it into FILE.png or FILE.svg")
    renter.set_defaults(handler=insights_renter)
    fleet = insights.add_parser(
        "fleet",
        parents=[remote_options(prints=True)],
        help="per machine class: occupancy by hour of week, revenue, idle machines",
    )
    fleet.add_argument("--host", default="", help="only this host's machines (admin)")
    fleet.add_argument("--class", dest="machine_class", default="", help="only this machine class")
    fleet.add_argument("--chart", default="", help="also draw it into FILE.png or FILE.svg")
    fleet.set_defaults(handler=insights_fleet)
    refresh = insights.add_parser(
        "refresh", parents=[remote_options(prints=True)], help="run the profile and advice jobs now (admin)"
    )
    refresh.set_defaults(handler=insights_refresh)


@with_client
def insights_renter(client: AdminClient, args: argparse.Namespace) -> None:
    import grpc

    from protos.rentmeter.v1 import insights_pb2
    from rentmeter.charts import chart_path, renter_chart

    chart = chart_path(args.chart) if args.chart else None
    profile = client.insights.GetRenterProfile(insights_pb2.GetRenterProfileRequest(renter=args.renter))
    try:
        advice: insights_pb2.Recommendation | None = client.insights.GetRecommendation(
            insights_pb2.GetRecommendationRequest(renter=args.renter)
        )
    except grpc.RpcError as exc:
        if exc.code() is not grpc.StatusCode.NOT_FOUND:
            raise
        advice = None  # no sessions in the recommendation's window
    offers = client.insights.ListOffers(insights_pb2.ListOffersRequest(renter=args.renter)).offers
    if args.output == "json":
        found: dict[str, Any] = {
            "profile": _data(profile),
            "recommendation": _data(advice) if advice else None,
            "offers": [_data(o) for o in offers],
        }
        print(json.dumps(found, indent=2, ensure_ascii=False), flush=True)
    else:
        render_renter(profile, advice, list(offers))
    if chart is not None:
        renter_chart(profile, chart)
        print(f"chart written to {chart}", flush=True)


@with_client
def insights_fleet(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import insights_pb2
    from rentmeter.charts import chart_path, fleet_chart
    from rentmeter.commands.remote import show

    chart = chart_path(args.chart) if args.chart else None
    request = insights_pb2.GetFleetProfileRequest(host=args.host, machine_class=args.machine_class)
    fleet = client.insights.GetFleetProfile(request, timeout=60)
    show(args, fleet, lambda: render_fleet(fleet))
    if chart is not None:
        fleet_chart(fleet, chart)
        print(f"chart written to {chart}", flush=True)


@with_client
def insights_refresh(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import insights_pb2
    from rentmeter.commands.remote import show
    from rentmeter.output import console

    done = client.insights.RefreshInsights(insights_pb2.RefreshInsightsRequest(), timeout=3600)
    show(
        args,
        done,
        lambda: console.print(
            f"profiles: {done.renters_profiled} renters; advice: {done.renters_advised} renters; "
            f"failed: {done.failed} (see rentmeter jobs status)"
        ),
    )
    return 1 if done.failed else 0


def _data(message: Any) -> Any:
    return json.loads(as_json(message, indent=None))


def render_renter(
    p: insights_pb2.RenterProfile,
    advice: insights_pb2.Recommendation | None,
    offers: list[insights_pb2.Offer],
) -> None:
    from rich.table import Table

    from rentmeter.charts import DAYS
    from rentmeter.commands.offers import terms_text
    from rentmeter.output import console, when

    use = p.utilisation
    console.print(
        f"[bold]{p.renter}[/bold] ({p.time_zone}): {p.sessions} sessions, "
        f"{p.rented_seconds / 3600:,.1f} h rented, {_share(p.night_seconds, p.rented_seconds)} at night "
        f"(23:00-07:00); profiled up to {when(p.folded_until)}"
    )
    busiest = sorted(range(len(p.hour_of_week_seconds)), key=lambda h: -p.hour_of_week_seconds[h])[:3]
    peaks = ", ".join(f"{DAYS[h // 24]} {h % 24:02d}:00" for h in busiest if p.hour_of_week_seconds[h])
    console.print(f"busiest hours: {peaks or '-'}")
    console.print(
        f"utilisation: CPU {use.cpu_share:.0%}, GPU {use.gpu_share:.0%}, idle {use.idle_share:.0%} "
        f"of covered time; traffic {use.bytes_per_hour / 1e9:,.2f} GB per rented hour"
    )
    lengths = Table("session length", "sessions", title="session lengths")
    for bucket in p.session_lengths:
        lengths.add_row(bucket.label, str(bucket.sessions))
    console.print(lengths)
    console.print(
        "classes: "
        + (", ".join(f"{c.machine_class} {c.rented_seconds / 3600:,.1f} h" for c in p.classes) or "-")
    )
    console.print(
        "spend per week: " + (", ".join(f"{w.week} {w.spent.display}" for w in p.spend_per_week[-6:]) or "-")
    )
    for t in p.top_ups:
        console.print(
            f"top-ups: {t.count}, {t.total.display} in all; balance at a top-up "
            f"{t.average_balance_before.display} on average, {t.lowest_balance_before.display} "
            f"lowest; balance now {t.balance.display}"
        )
    if advice is None:
        console.print("recommendation: none yet (no sessions in the window)")
    elif advice.plan:
        console.print(
            f"[bold]recommendation[/bold]: {advice.evidence} "
            f"({advice.current.display} -> {advice.recommended.display})"
        )
    else:
        console.print(f"recommendation: {advice.evidence}")
    for o in offers:
        terms = terms_text(o.plan, o.member_tier, o.coupon)
        console.print(
            f"offer {o.rule}: {terms}, from {when(o.valid_from)} to {when(o.valid_until)} ({o.reason})"
        )


def render_fleet(fleet: insights_pb2.FleetProfile) -> None:
    from rich.table import Table

    from rentmeter.charts import DAYS
    from rentmeter.output import console

    table = Table(
        "class",
        "machines",
        "idle (7 d)",
        "sessions",
        "rented",
        "busiest hour (UTC)",
        "revenue",
        "CPU",
        "idle share",
        title="machine classes",
    )
    for c in fleet.classes:
        hour = max(range(len(c.occupancy)), key=lambda h: c.occupancy[h]) if c.occupancy else 0
        busiest = f"{DAYS[hour // 24]} {hour % 24:02d}:00 ({c.occupancy[hour]:.0%})" if c.occupancy else "-"
        table.add_row(
            c.machine_class,
            str(c.machines),
            str(c.idle_machines),
            str(c.sessions),
            f"{c.rented_seconds / 3600:,.1f} h",
            busiest,
            ", ".join(r.display for r in c.revenue) or "-",
            f"{c.utilisation.cpu_share:.0%}",
            f"{c.utilisation.idle_share:.0%}",
        )
    console.print(table)


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "0 %"
