"""`rentmeter pricing show|backtest`: demand-based prices — the published schedule of a machine class, and
a replay of stored sessions under a policy."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from rentmeter.commands.collector import collector_settings
from rentmeter.commands.remote import Commands, parse_time, remote_options, show, with_client
from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from billing.backtest import BacktestResult
    from protos.rentmeter.v1 import pricing_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    pricing = commands.add_parser("pricing", help="demand-based prices").add_subparsers(
        dest="action", required=True
    )
    show_parser = pricing.add_parser(
        "show", parents=[remote_options(prints=True)], help="the published price schedule of a machine class"
    )
    show_parser.add_argument("machine_class", metavar="CLASS")
    show_parser.add_argument("--hours", type=int, default=24, help="how far ahead (1-168, default 24)")
    show_parser.add_argument(
        "--plan", default="", help="only this plan (default: every plan pricing the class)"
    )
    show_parser.set_defaults(handler=pricing_show)
    backtest = pricing.add_parser(
        "backtest", help="replay stored sessions under a [dynamic] policy, beside the static prices"
    )
    backtest.add_argument("--policy", required=True, metavar="FILE", help="a plan file with [dynamic]")
    backtest.add_argument("--from", dest="start", required=True, type=parse_time, metavar="DATE")
    backtest.add_argument("--to", dest="end", required=True, type=parse_time, metavar="DATE")
    backtest.add_argument(
        "--elasticity", default="1", help="demand scales by multiplier^(-E) (default 1; 0: no response)"
    )
    backtest.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    backtest.add_argument("-o", "--output", choices=("table", "json"), default="table")
    backtest.add_argument("--chart", default="", help="also draw it into FILE.png or FILE.svg")
    backtest.set_defaults(handler=pricing_backtest)


@with_client
def pricing_show(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import pricing_pb2

    request = pricing_pb2.GetPriceScheduleRequest(machine_class=args.machine_class, hours=args.hours,
                                                  plan=args.plan)  # fmt: skip
    schedules = client.pricing.GetPriceSchedule(request, timeout=30)
    show(args, schedules, lambda: render_schedules(schedules, args.machine_class))
    return 0


def render_schedules(schedules: pricing_pb2.PriceSchedules, machine_class: str) -> None:
    from rich.table import Table

    from rentmeter.output import console, when

    if not schedules.schedules:
        console.print(f"no plan has dynamic prices for class {machine_class}: its prices are static")
    for schedule in schedules.schedules:
        title = f"{schedule.plan}: class {schedule.machine_class}, {schedule.currency}"
        table = Table("from", "until", "multiplier", "per hour", "expected occupancy", title=title)
        for step in schedule.steps:
            occupancy = f"{Decimal(step.expected_occupancy) * 100:.1f} %"
            table.add_row(when(step.starts_at), when(step.ends_at), f"x{step.multiplier}",
                          f"{step.price_per_hour} {schedule.currency}", occupancy)  # fmt: skip
        console.print(table)
        if not schedule.steps:
            console.print("nothing published yet for the hours asked: the static prices apply")
        console.print(f"a session keeps the multiplier in force when it starts for {schedule.locked_for}")


def pricing_backtest(args: argparse.Namespace) -> int:
    from billing.plan_file import PlanFileError, parse_plan
    from collector.core.errors import CollectorError
    from collector.db.database import Database
    from collector.pricing.backtest import backtest
    from rentmeter.charts import backtest_chart, chart_path

    try:
        elasticity = Decimal(args.elasticity)
    except InvalidOperation:
        raise UsageError(f"--elasticity takes a number such as 1.5, not {args.elasticity!r}") from None
    if not elasticity.is_finite() or not 0 <= elasticity <= 10:
        raise UsageError("--elasticity: a number from 0 to 10")
    try:
        with open(args.policy, encoding="utf-8") as file:
            plan = parse_plan(file.read(), args.policy)
    except OSError as exc:
        raise UsageError(f"cannot read {args.policy}: {exc.strerror}") from None
    except PlanFileError as exc:
        raise UsageError(str(exc)) from None
    chart = chart_path(args.chart) if args.chart else None
    database = Database(collector_settings(args).db_url, migrate=False)
    try:
        results = database.call(backtest, plan, args.start, args.end, elasticity)
    except CollectorError as exc:
        raise UsageError(str(exc)) from None
    finally:
        database.close()
    rows = [backtest_row(result, plan.currency) for result in results]
    if args.output == "json":
        print(
            json.dumps({"currency": plan.currency, "elasticity": str(elasticity), "classes": rows}, indent=2)
        )
    else:
        render_backtest(rows, plan.currency, elasticity)
    if chart is not None:
        multipliers = {result.machine_class: [float(m) for m in result.multipliers] for result in results}
        backtest_chart(rows, multipliers, plan.currency, chart)
        print(f"chart written to {chart}", flush=True)
    return 0


def backtest_row(result: BacktestResult, currency: str) -> dict[str, str]:
    """One class's figures as text: money rounded to the currency, occupancy in percent (0.1)."""
    from fractions import Fraction

    from billing.money import EXACT, Money, to_decimal

    def money(value: Fraction) -> str:
        return str(Money.of(to_decimal(value), currency).to_decimal())

    def percent(value: Fraction) -> str:
        return str((to_decimal(value) * 100).quantize(Decimal("0.1"), context=EXACT))

    moved = [str(m) for m in result.multipliers]
    return {
        "class": result.machine_class,
        "steps": str(result.steps),
        "static_revenue": money(result.static_revenue),
        "dynamic_revenue": money(result.dynamic_revenue),
        "static_occupancy_percent": percent(result.static_occupancy),
        "dynamic_occupancy_percent": percent(result.dynamic_occupancy),
        "static_price_per_hour": money(result.static_price_per_hour),
        "dynamic_price_per_hour": money(result.dynamic_price_per_hour),
        "multiplier_range": f"{min(moved, key=Decimal)}-{max(moved, key=Decimal)}" if moved else "-",
    }


def render_backtest(rows: list[dict[str, str]], currency: str, elasticity: Decimal) -> None:
    from rich.table import Table

    from rentmeter.output import console

    table = Table("class", "steps", "revenue static", "revenue dynamic", "occupancy static",
                  "occupancy dynamic", "price/h static", "price/h dynamic", "multipliers",
                  title=f"backtest, {currency}, demand x multiplier^-{elasticity}")  # fmt: skip
    for row in rows:
        table.add_row(
            row["class"], row["steps"], row["static_revenue"], row["dynamic_revenue"],
            row["static_occupancy_percent"] + " %", row["dynamic_occupancy_percent"] + " %",
            row["static_price_per_hour"], row["dynamic_price_per_hour"], row["multiplier_range"],
        )  # fmt: skip
    console.print(table)
    if not rows:
        console.print("no class of the stored sessions is covered by the policy's [dynamic] section")
