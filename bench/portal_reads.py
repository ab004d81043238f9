"""What the portal polls, on a real database: the fleet view and the alerts over many machines, and a day of
one machine's usage as a chart series.

    python bench/portal_reads.py [--machines 2000] [--db URL] [--runs 5]

Writes N machines, each rented by a prepaid renter with a wallet, with one stored report of five 1-second
samples, then times (median of --runs) FleetService's fleet() and ListAlerts' alerts(), and as the
baseline measured in the same run, one query reading every machine with its open session (the least any
fleet view reads). Then one machine gets a day of 1-second samples (86,400) and usage_series() draws it in
120 steps, against usage_summary() of the same day (one aggregate of the same rows) as the baseline.
Default database: an SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import billing  # noqa: E402
from collector.core.clock import to_us  # noqa: E402
from collector.core.job_board import JobBoard  # noqa: E402
from collector.db.database import Database  # noqa: E402
from collector.db.models import (  # noqa: E402
    LedgerEntry,
    LedgerTransaction,
    Machine,
    PlanVersion,
    PricePlan,
    RentalSession,
    Renter,
    Report,
    Sample,
)
from collector.metering.series import usage_series  # noqa: E402
from collector.metering.usage import usage_summary  # noqa: E402
from collector.sessions.alerts import alerts  # noqa: E402
from collector.sessions.fleet import fleet  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECOND_US = 10**6
DAY_US = 86_400 * SECOND_US
PLAN = billing.simple_document("std", "EUR", {"standard": "1.20"}, "0.05", "0.09")


def _sample(agent_id: str, start_us: int, sequence: int = 1) -> dict[str, Any]:
    return {"agent_id": agent_id, "report_sequence": sequence, "start_us": start_us,
            "end_us": start_us + SECOND_US, "cpu_busy_us": 400_000, "cpu_utilization": 0.4,
            "memory_used_bytes": 2 * 10**9, "memory_total_bytes": 8 * 10**9, "disk_read_bytes": 0,
            "disk_write_bytes": 0, "net_rx_bytes": 1000, "net_tx_bytes": 100}  # fmt: skip


def populate(database: Database, machines: int) -> None:
    """Per machine: a renter with a 10.00 EUR wallet, an open session, one report of five samples."""
    last = to_us(NOW) - 10 * SECOND_US
    with database.engine.begin() as db:
        plan_id = db.execute(
            insert(PricePlan).values(name="std", currency="EUR", created_at=NOW).returning(PricePlan.id)
        ).scalar_one()
        version = {
            "plan_id": plan_id,
            "number": 1,
            "effective_from": billing.plan.BEGINNING,
            "document": PLAN,
        }
        db.execute(insert(PlanVersion).values(**version, created_at=NOW))
        ids = range(machines)
        db.execute(insert(Machine), [
            {"agent_id": f"m-{i}", "public_key": bytes(32), "machine_class": f"class-{i % 4}", "label": "",
             "facts": {"cpu_cores_logical": 8}, "enrolled_at": NOW - timedelta(days=1), "last_sequence": 1,
             "last_seen_at": NOW - timedelta(seconds=i % 60), "last_report_end_us": last + 5 * SECOND_US,
             "host_id": f"h-{i % 10}"} for i in ids])  # fmt: skip
        renters = [{"id": f"r-{i}", "created_at": NOW, "invoiced_until": NOW, "prepaid": True} for i in ids]
        db.execute(insert(Renter), renters)
        db.execute(insert(RentalSession), [
            {"id": f"s-{i}", "agent_id": f"m-{i}", "renter_id": f"r-{i}", "plan_id": plan_id,
             "machine_class": f"class-{i % 4}", "started_at": NOW - timedelta(hours=1), "cost_minor": 120,
             "covered_us": 0, "service_level": "", "member_tier": "", "coupon": "", "resources": {}}
            for i in ids])  # fmt: skip
        transactions = db.execute(insert(LedgerTransaction).returning(LedgerTransaction.id), [
            {"kind": "top-up", "reference": "", "idempotency_key": f"k-{i}", "created_at": NOW} for i in ids
        ]).scalars().all()  # fmt: skip
        db.execute(insert(LedgerEntry), [
            row for i, t in zip(ids, transactions, strict=True) for row in (
                {"transaction_id": t, "account": "cash", "currency": "EUR", "amount_minor": 1000},
                {"transaction_id": t, "account": f"wallet:r-{i}", "currency": "EUR", "amount_minor": -1000})
        ])  # fmt: skip
        db.execute(insert(Report), [
            {"agent_id": f"m-{i}", "sequence": 1, "start_us": last, "end_us": last + 5 * SECOND_US,
             "received_at": NOW, "logins": {}, "payload": b"", "signature": bytes(64)}
            for i in ids
        ])  # fmt: skip
        db.execute(insert(Sample), [_sample(f"m-{i}", last + k * SECOND_US) for i in ids for k in range(5)])


def median_ms(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default="", help="SQLAlchemy URL (default: an SQLite file in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(args.db or f"sqlite:///{Path(scratch) / 'bench.db'}")
        populate(database, args.machines)
        window, board = timedelta(seconds=30), JobBoard()
        baseline = select(Machine, RentalSession.id).outerjoin(
            RentalSession, (RentalSession.agent_id == Machine.agent_id) & RentalSession.ended_at.is_(None)
        )
        base = median_ms(lambda: database.call(lambda db: db.execute(baseline).all()), args.runs)
        view = median_ms(lambda: database.call(fleet, NOW, window), args.runs)
        warn = median_ms(
            lambda: database.call(alerts, NOW, online_window=window, low_balance=Decimal(5), board=board),
            args.runs,
        )
        print(f"{args.machines} machines, each rented: fleet() {view:.0f} ms, alerts() {warn:.0f} ms; "
              f"baseline (machines with their open session, one query) {base:.0f} ms")  # fmt: skip
        day_start = to_us(NOW) - DAY_US - 20 * SECOND_US
        with database.engine.begin() as db:
            for first in range(0, 86_400, 10_000):
                rows = [
                    _sample("m-0", day_start + k * SECOND_US, 0)
                    for k in range(first, min(first + 10_000, 86_400))
                ]
                db.execute(insert(Sample), rows)
        end = day_start + DAY_US
        series = median_ms(
            lambda: database.call(usage_series, "m-0", day_start, end, 720 * SECOND_US, 8), args.runs
        )
        whole = median_ms(lambda: database.call(usage_summary, "m-0", day_start, end), args.runs)
        print(f"a day of 1-second samples in 120 steps: usage_series() {series:.0f} ms; "
              f"baseline usage_summary() of the same day {whole:.0f} ms")  # fmt: skip
        database.close()


if __name__ == "__main__":
    main()
