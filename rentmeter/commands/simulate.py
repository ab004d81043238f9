"""`rentmeter simulate --renters N --days D --seed S --db URL`: a realistic stretch of usage written into a
database (rentmeter/simulation.py), so that insights, recommendations and offers can be shown on a fresh
install. Writes the database directly, as `collector token` does (the collector may be stopped)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from rentmeter import numbers
from rentmeter.commands.remote import Commands, parse_time


def register(commands: Commands) -> None:
    simulate = commands.add_parser(
        "simulate", help="write generated renters, sessions and usage into a database (demos, tests)"
    )
    simulate.add_argument("--renters", type=numbers.whole("renters", 100_000, minimum=1), default=100)
    simulate.add_argument("--days", type=numbers.whole("days", 366, minimum=1), default=30)
    simulate.add_argument("--seed", type=numbers.whole("", 2**31), default=1, help="same seed, same history")
    simulate.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    simulate.add_argument("--until", type=parse_time, help="ISO 8601 end of the history (default: this hour)")
    simulate.add_argument("--no-invoices", dest="invoices", action="store_false", help="leave it uninvoiced")
    simulate.set_defaults(handler=run_simulation)


def run_simulation(args: argparse.Namespace) -> int:
    from collector.db.database import Database
    from rentmeter.commands.collector import collector_settings
    from rentmeter.simulation import simulate

    settings = collector_settings(args)
    settings.ensure_db_dir()
    until = args.until or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    database = Database(settings.db_url)
    began = time.monotonic()

    def progress(text: str) -> None:
        print(f"{time.monotonic() - began:7.1f} s  {text}", file=sys.stderr, flush=True)

    try:
        world = simulate(database, renters=args.renters, days=args.days, seed=args.seed, until=until,
                         invoices=args.invoices, progress=progress)  # fmt: skip
    finally:
        database.close()
    where = database.engine.url.render_as_string(hide_password=True)
    print(f"{len(world.renters)} renters, {len(world.rentals)} sessions, {sum(world.machines.values())} "
          f"machines over {args.days} days up to {until.isoformat()} written to {where}")  # fmt: skip
    return 0
