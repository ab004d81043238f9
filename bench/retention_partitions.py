"""Raw-data retention on PostgreSQL: dropping a month's partitions vs deleting the same rows.

    python bench/retention_partitions.py [--machines 20] [--hours 12] [--db URL]

Writes the same samples (one a second per report of 5, i.e. 1 row per 5 s per machine, and their reports)
for `--machines` machines over `--hours` into two old months, October and November 2026 (both made
partitions). Then times, in one run: deleting October's rows machine by machine as the retention job does
on SQLite and for months still partly kept (the baseline), and dropping November's partitions whole. Prints
rows, seconds, rows per second, the ratio, and the bytes the tables hold before and after each (a DELETE
leaves dead rows until VACUUM; a drop gives the space back at once). --db must name an empty PostgreSQL
database (default: RENTMETER_TEST_PG_URL's server, database rentmeter_bench_retention, recreated).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.db.database import Database  # noqa: E402
from collector.db.models import Machine, Report, Sample  # noqa: E402
from collector.db.partitions import Month, create_month, drop_months_before  # noqa: E402
from collector.metering.retention import _purge  # noqa: E402

OCTOBER, NOVEMBER = Month(2026, 10), Month(2026, 11)
STEP_S = 5
CHUNK = 20_000


def fresh_database(url: str | None) -> str:
    if url:
        return url
    base = make_url(
        os.environ.get("RENTMETER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS rentmeter_bench_retention WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE rentmeter_bench_retention"))
    engine.dispose()
    return base.set(database="rentmeter_bench_retention").render_as_string(hide_password=False)


def make_month(db: Session, table: str, month: Month) -> None:
    create_month(db.connection(), table, month)


def insert_rows(db: Session, model: type[Sample] | type[Report], rows: list[dict[str, Any]]) -> None:
    db.execute(insert(model), rows)


def write(database: Database, machines: int, hours: int) -> int:
    """Samples and reports of every machine over `hours` from the 2nd of each month; rows per month."""
    enrolled = datetime(2026, 9, 1, tzinfo=UTC)
    machine_rows = [{"agent_id": f"m{i}", "public_key": b"\0" * 32, "machine_class": "standard",
                     "label": "", "facts": {}, "enrolled_at": enrolled, "last_sequence": 0}
                    for i in range(machines)]  # fmt: skip
    database.call(lambda db: db.execute(insert(Machine), machine_rows))
    rows = 0
    for month in (OCTOBER, NOVEMBER):
        for name in ("samples", "gpu_samples", "reports"):
            database.call(make_month, name, month)
        start_us = month.start_us() + 86_400 * 1_000_000
        samples: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        for i in range(machines):
            for n in range(hours * 3600 // STEP_S):
                begin = start_us + n * STEP_S * 1_000_000
                end = begin + STEP_S * 1_000_000
                samples.append({"agent_id": f"m{i}", "report_sequence": n + 1, "start_us": begin,
                                "end_us": end,
                                "cpu_busy_us": 1, "cpu_utilization": 0.1, "memory_used_bytes": 1,
                                "memory_total_bytes": 2, "disk_read_bytes": 0, "disk_write_bytes": 0,
                                "net_rx_bytes": 0, "net_tx_bytes": 0})  # fmt: skip
                reports.append({"agent_id": f"m{i}", "sequence": n + 1 + month.month * 10**6,
                                "start_us": begin, "end_us": end, "received_at": enrolled,
                                "boot_time_us": 0, "logins": {}, "payload": b"x" * 200,
                                "signature": b"s" * 64})  # fmt: skip
        for model, values in ((Sample, samples), (Report, reports)):
            for at in range(0, len(values), CHUNK):
                database.call(insert_rows, model, values[at : at + CHUNK])
        rows = len(samples) + len(reports)
    return rows


def table_bytes(database: Database) -> int:
    query = text("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_inherits i "
                 "ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent "
                 "WHERE p.relname IN ('samples', 'gpu_samples', 'reports')")  # fmt: skip
    return int(database.call(lambda db: db.scalar(query)) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=20)
    parser.add_argument("--hours", type=int, default=12)
    parser.add_argument("--db")
    args = parser.parse_args()
    database = Database(fresh_database(args.db))
    rows = write(database, args.machines, args.hours)
    print(f"{args.machines} machines x {args.hours} h: {rows:,} rows (samples and reports) per month")
    before = table_bytes(database)
    began = time.perf_counter()
    cutoff = datetime.fromtimestamp(NOVEMBER.start_us() / 1e6, UTC)
    deleted = sum(database.call(_purge, f"m{i}", cutoff) for i in range(args.machines))
    delete_s = time.perf_counter() - began
    after_delete = table_bytes(database)
    print(
        f"baseline DELETE of October, machine by machine: {deleted:,} rows in {delete_s:.3f} s "
        f"({deleted / delete_s:,.0f} rows/s); tables {before / 2**20:.1f} -> {after_delete / 2**20:.1f} MiB"
    )
    database.call(drop_months_before, OCTOBER.end_us())  # October's partitions, emptied above (not timed)
    after_delete = table_bytes(database)
    began = time.perf_counter()
    dropped = database.call(drop_months_before, NOVEMBER.end_us())
    drop_s = time.perf_counter() - began
    after_drop = table_bytes(database)
    print(
        f"DROP of November's partitions {', '.join(dropped)}: {rows:,} rows in {drop_s:.3f} s; "
        f"tables {after_delete / 2**20:.1f} -> {after_drop / 2**20:.1f} MiB"
    )
    print(f"ratio: dropping is {delete_s / drop_s:,.0f}x faster than deleting the same number of rows")
    database.close()


if __name__ == "__main__":
    main()
