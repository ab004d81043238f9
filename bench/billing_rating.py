"""Billing throughput: the rating engine alone, and month-end invoicing of many accounts on a real database.

    python bench/billing_rating.py [--accounts 100000] [--samples 4] [--db URL] [--engine-seconds 5]

1. Engine: rates sessions in memory (no I/O) for a few seconds each, under a plain hourly plan (a 2-hour
   session) and under a café plan with a night window, a daily cap and tax (a 30-day session in
   Europe/Berlin: 61 segments); prints sessions and charges (invoice lines) per second.
2. Month-end invoicing: N accounts, each a renter with one machine and one session of the month with
   `--samples` stored hour-long samples, are written with SQLAlchemy Core, then the collector's invoicing
   job (close_due_invoices: 1000 renters per transaction) invoices the 30-day period for all of them.
   Prints the invoicing time and accounts per second, and as
   the baseline measured in the same run, one SQL aggregate of every account's samples (GROUP BY agent):
   the floor any invoicing must read. Default database: an SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import billing  # noqa: E402
from collector.config import CollectorSettings  # noqa: E402
from collector.core.clock import EPOCH, to_us  # noqa: E402
from collector.db.database import Database  # noqa: E402
from collector.db.models import (  # noqa: E402
    InvoiceLine,
    Machine,
    PlanVersion,
    PricePlan,
    RentalSession,
    Renter,
    Sample,
)
from collector.invoicing.invoices import close_due_invoices  # noqa: E402

PERIOD = timedelta(days=30)
HOUR_US = 3600 * 10**6
SIMPLE = billing.simple_document("simple", "EUR", {"standard": "1.20"}, "0.05", "0.09")
CAFE = """
name = "cafe"
currency = "EUR"
timezone = "Europe/Berlin"

[session]
increment = "1m"
daily_cap = "12.00"

[[windows]]
name = "night"
from = "22:00"
to = "06:00"

[[prices]]
meter = "time"
price = "1.20"

[[prices]]
meter = "time"
window = "night"
price = "0.60"

[[prices]]
meter = "traffic_out"
price = "0.09"

[tax]
name = "VAT"
percent = "19"
"""


def engine_rate(document: str, hours: int, seconds: float) -> tuple[float, float]:
    """Sessions and charges rated per second, for `seconds` of wall time."""
    versions = [billing.parse_plan(document)]
    terms = billing.RentalTerms("standard")
    start = datetime(2026, 10, 10, 7, 13, tzinfo=UTC)
    end = start + timedelta(hours=hours)
    usage_of = billing.uniform_usage(start, end, rx_bytes=5 * 10**9, tx_bytes=2 * 10**9)
    sessions = charges = 0
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        charges += len(billing.rate(versions, terms, start, end, usage_of))
        sessions += 1
    return sessions / elapsed, charges / elapsed


def populate(database: Database, accounts: int, samples: int, month: datetime) -> None:
    """One plan; per account a machine, a renter invoiced up to `month`, a session and its samples."""
    with database.engine.begin() as db:
        plan_id = db.execute(
            insert(PricePlan).values(name="simple", currency="EUR", created_at=month).returning(PricePlan.id)
        ).scalar_one()
        db.execute(
            insert(PlanVersion).values(
                plan_id=plan_id,
                number=1,
                effective_from=billing.plan.BEGINNING,
                document=SIMPLE,
                created_at=month,
            )
        )
        for first in range(0, accounts, 10_000):
            chunk = range(first, min(first + 10_000, accounts))
            db.execute(
                insert(Machine),
                [
                    {
                        "agent_id": f"m-{i}",
                        "public_key": bytes(32),
                        "machine_class": "standard",
                        "label": "",
                        "facts": {},
                        "enrolled_at": month,
                        "last_sequence": 0,
                    }
                    for i in chunk
                ],
            )
            db.execute(
                insert(Renter),
                [{"id": f"r-{i}", "created_at": month, "invoiced_until": month} for i in chunk],
            )
            sessions, rows = [], []
            for i in chunk:
                start = month + timedelta(minutes=i % 10_000)
                sessions.append(
                    {
                        "id": f"s-{i}",
                        "agent_id": f"m-{i}",
                        "renter_id": f"r-{i}",
                        "plan_id": plan_id,
                        "machine_class": "standard",
                        "started_at": start,
                        "ended_at": start + timedelta(hours=samples),
                        "cost_minor": 0,
                        "covered_us": 0,
                        "service_level": "",
                        "member_tier": "",
                        "coupon": "",
                        "resources": {},
                    }
                )
                base = to_us(start)
                rows += [
                    {
                        "agent_id": f"m-{i}",
                        "report_sequence": 1,
                        "start_us": base + k * HOUR_US,
                        "end_us": base + (k + 1) * HOUR_US,
                        "cpu_busy_us": HOUR_US,
                        "cpu_utilization": 0.5,
                        "memory_used_bytes": 2 * 10**9,
                        "memory_total_bytes": 8 * 10**9,
                        "disk_read_bytes": 0,
                        "disk_write_bytes": 0,
                        "net_rx_bytes": 10**8,
                        "net_tx_bytes": 10**7,
                    }
                    for k in range(samples)
                ]
            db.execute(insert(RentalSession), sessions)
            db.execute(insert(Sample), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=4, help="hour-long samples per session")
    parser.add_argument("--db", help="database URL (default: an SQLite file in a temporary directory)")
    parser.add_argument("--engine-seconds", type=float, default=5.0)
    args = parser.parse_args()

    for name, document, hours in (("plain hourly, 2 h", SIMPLE, 2), ("cafe, 30 days", CAFE, 30 * 24)):
        sessions, charges = engine_rate(document, hours, args.engine_seconds)
        print(f"engine  {name:18s} {sessions:10,.0f} sessions/s {charges:10,.0f} charges/s")

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        database = Database(url)
        month = EPOCH + ((datetime(2026, 11, 1, tzinfo=UTC) - EPOCH) // PERIOD) * PERIOD
        began = time.perf_counter()
        populate(database, args.accounts, args.samples, month)
        print(
            f"db      {database.engine.dialect.name}: {args.accounts:,} accounts, "
            f"{args.accounts * args.samples:,} samples written in {time.perf_counter() - began:.1f} s"
        )

        began = time.perf_counter()
        with database.engine.connect() as db:
            groups = db.execute(
                select(
                    Sample.agent_id, func.sum(Sample.end_us - Sample.start_us), func.sum(Sample.net_rx_bytes)
                ).group_by(Sample.agent_id)
            ).all()
        baseline = time.perf_counter() - began

        began = time.perf_counter()
        settings = CollectorSettings(db_url=url, invoice_period=PERIOD, invoice_grace=timedelta(hours=1))
        made = asyncio.run(
            close_due_invoices(
                database, month + PERIOD + timedelta(hours=1), period=settings.invoice_period,
                grace=settings.invoice_grace, prefix=settings.invoice_prefix,
            )
        ).produced  # fmt: skip
        elapsed = time.perf_counter() - began
        with database.engine.connect() as db:
            lines = db.scalar(select(func.count()).select_from(InvoiceLine))
        assert made == args.accounts == len(groups), (made, len(groups))
        print(
            f"invoice month-end: {made:,} invoices ({lines:,} lines) in {elapsed:.1f} s = "
            f"{made / elapsed:,.0f} accounts/s"
        )
        print(
            f"baseline one GROUP BY over all samples: {baseline:.2f} s; invoicing / baseline = "
            f"{elapsed / baseline:.0f}x"
        )
        database.close()


if __name__ == "__main__":
    main()
