"""The rating job and live updates, whose cost must not grow with session length, on a real database.

    python bench/rating_jobs.py [--sessions 1000] [--db URL] [--runs 5] [--sample-minutes 10]

For a short history (one hour) and a 7-day one, N machines each rented in one open session under a café
plan (night window, daily cap, 15-minute increment, tax) have stored samples of `--sample-minutes`; then,
`--runs` times, every machine delivers one more report (five one-minute samples) and the rating job
(rate_sessions) runs. Prints the job's time per run at N sessions (steady state: after the first run,
which takes each session's first checkpoint), and as same-run baselines one GROUP BY over every stored
sample of the sessions (what rating from the start must at least read) and the old path (each session
rated from its start) on a few sessions, scaled to N.

Then one 7-day session with one-minute samples: the time of one update (a new report, then the session
rated as a watcher's update does), against rating it from its start.

PostgreSQL: --db postgresql+psycopg://postgres@127.0.0.1:5432/bench (its public schema is emptied first).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import billing  # noqa: E402
from collector.core.clock import to_us  # noqa: E402
from collector.db.database import Database  # noqa: E402
from collector.db.models import (  # noqa: E402
    Machine,
    PlanVersion,
    PricePlan,
    RentalSession,
    Renter,
    Report,
    Sample,
)
from collector.sessions.rating import cumulative_usage, rate_session, rate_sessions  # noqa: E402

MINUTE_US = 60 * 10**6
NOW = datetime(2026, 11, 30, 12, 3, tzinfo=UTC)
CAFE = """
name = "cafe"
currency = "EUR"
timezone = "Europe/Berlin"

[session]
increment = "15m"
daily_cap = "30.00"

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
meter = "traffic_in"
price = "0.05"

[tax]
name = "VAT"
percent = "19"
"""


def fresh_database(url: str | None, tmp: str, name: str) -> Database:
    if url is None:
        return Database(f"sqlite:///{tmp}/{name}.db")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return Database(url)


def sample_rows(agent: str, sequence: int, start_us: int, count: int, length_us: int) -> list[dict[str, Any]]:
    return [
        {"agent_id": agent, "report_sequence": sequence, "start_us": start_us + k * length_us,
         "end_us": start_us + (k + 1) * length_us, "cpu_busy_us": length_us // 2, "cpu_utilization": 0.5,
         "memory_used_bytes": 2 * 10**9, "memory_total_bytes": 8 * 10**9, "disk_read_bytes": 0,
         "disk_write_bytes": 0, "net_rx_bytes": 10**7 * (k % 7), "net_tx_bytes": 10**6}
        for k in range(count)
    ]  # fmt: skip


def report_row(agent: str, sequence: int, start_us: int, end_us: int) -> dict[str, Any]:
    return {"agent_id": agent, "sequence": sequence, "start_us": start_us, "end_us": end_us,
            "received_at": NOW, "boot_time_us": None, "logins": {}, "payload": b"",
            "signature": bytes(64)}  # fmt: skip


def populate(database: Database, sessions: int, history: timedelta, sample_us: int) -> datetime:
    """A plan, N machines, renters and open sessions started `history` before NOW, with their samples
    (one report row per machine). Returns the sessions' start."""
    start = NOW - history
    per_machine = history // timedelta(microseconds=sample_us)
    with database.engine.begin() as db:
        plan_id = db.execute(
            insert(PricePlan).values(name="cafe", currency="EUR", created_at=start).returning(PricePlan.id)
        ).scalar_one()
        version = {"plan_id": plan_id, "number": 1, "effective_from": billing.plan.BEGINNING,
                   "document": CAFE, "created_at": start}  # fmt: skip
        db.execute(insert(PlanVersion).values(**version))
        for first in range(0, sessions, 200):
            chunk = range(first, min(first + 200, sessions))
            db.execute(insert(Machine), [
                {"agent_id": f"m-{i}", "public_key": bytes(32), "machine_class": "standard", "label": "",
                 "facts": {}, "enrolled_at": start, "last_sequence": 1, "last_report_end_us": to_us(NOW)}
                for i in chunk])  # fmt: skip
            db.execute(
                insert(Renter),
                [{"id": f"r-{i}", "created_at": start, "invoiced_until": start} for i in chunk],
            )
            db.execute(insert(RentalSession), [
                {"id": f"s-{i}", "agent_id": f"m-{i}", "renter_id": f"r-{i}", "plan_id": plan_id,
                 "machine_class": "standard", "started_at": start, "cost_minor": 0, "covered_us": 0,
                 "service_level": "", "member_tier": "", "coupon": "", "resources": {}}
                for i in chunk])  # fmt: skip
            db.execute(insert(Report), [report_row(f"m-{i}", 1, to_us(start), to_us(NOW)) for i in chunk])
            rows = [r for i in chunk for r in sample_rows(f"m-{i}", 1, to_us(start), per_machine, sample_us)]
            db.execute(insert(Sample), rows)
    return start


def deliver(database: Database, sessions: int, run: int, now: datetime) -> None:
    """Every machine's next report: five one-minute samples ending at `now`."""
    first = to_us(now) - 5 * MINUTE_US
    with database.engine.begin() as db:
        db.execute(
            insert(Report), [report_row(f"m-{i}", run + 1, first, to_us(now)) for i in range(sessions)]
        )
        db.execute(
            insert(Sample),
            [r for i in range(sessions) for r in sample_rows(f"m-{i}", run + 1, first, 5, MINUTE_US)],
        )
        db.execute(update(Machine).values(last_sequence=run + 1, last_report_end_us=to_us(now)))


class Timing(NamedTuple):
    """Seconds of wall clock, and of this process's CPU (SQLite's work included, PostgreSQL's server not):
    on a shared machine the CPU figure is the steadier one."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall * 1000:,.1f} ms (CPU {self.cpu * 1000:,.1f} ms)"

    def scaled(self, factor: float) -> Timing:
        return Timing(self.wall * factor, self.cpu * factor)


def timed(action: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings))


def group_by_all(database: Database) -> Timing:
    query = select(Sample.agent_id, func.sum(Sample.end_us - Sample.start_us), func.sum(Sample.net_rx_bytes))
    with database.engine.connect() as db:
        return timed(lambda: db.execute(query.group_by(Sample.agent_id)).all())


def from_the_start(database: Database, session_ids: list[str], now: datetime) -> Timing:
    def rate_all(db: Any) -> None:
        for session_id in session_ids:
            cumulative_usage(db, db.get_one(RentalSession, session_id), now)

    return timed(lambda: database.call(rate_all))


def job_runs(
    url: str | None, tmp: str, sessions: int, history: timedelta, runs: int, sample_minutes: int
) -> None:
    database = fresh_database(url, tmp, f"job-{history.days}")
    written = timed(lambda: populate(database, sessions, history, sample_minutes * MINUTE_US))
    samples = database.call(lambda db: db.scalar(select(func.count()).select_from(Sample)))
    print(f"  {sessions:,} open sessions, {history} of history: {samples:,} samples in {written.wall:.1f} s")
    first = timed(lambda: database.call(rate_sessions, NOW))
    times = []
    for run in range(1, runs + 1):
        now = NOW + run * timedelta(minutes=5)
        deliver(database, sessions, run, now)
        times.append(timed(partial(database.call, rate_sessions, now)))
    steady = median(times)
    baseline = group_by_all(database)
    probe = [f"s-{i}" for i in range(0, sessions, max(1, sessions // 10))][:10]
    old = from_the_start(database, probe, NOW + runs * timedelta(minutes=5)).scaled(sessions / len(probe))
    print(f"  rating job: first run {first} (takes the checkpoints); then per run, median of {runs}: {steady}"
          f" = CPU {steady.cpu * 1e6 / sessions:,.0f} us per session")  # fmt: skip
    print(f"  baseline GROUP BY over all {samples:,} samples: {baseline}; job / baseline (CPU) = "
          f"{steady.cpu / baseline.cpu:.1f}")  # fmt: skip
    print(f"  rating each from its start (the old path; {len(probe)} sessions, scaled to {sessions:,}):"
          f" {old}; {old.cpu / steady.cpu:,.1f}x the job's CPU")  # fmt: skip
    database.close()


def watch_update(db: Session, now: datetime) -> None:
    """What a watcher's update rates: the session now (collector/sessions/live.py)."""
    rate_session(db, db.get_one(RentalSession, "s-0"), now)


def one_long_session(url: str | None, tmp: str, updates: int) -> None:
    database = fresh_database(url, tmp, "long")
    populate(database, 1, timedelta(days=7), MINUTE_US)
    database.call(rate_sessions, NOW)
    times = []
    for run in range(1, updates + 1):
        now = NOW + run * timedelta(minutes=5)
        deliver(database, 1, run, now)
        times.append(timed(partial(database.call, watch_update, now)))
    old = median([from_the_start(database, ["s-0"], NOW + updates * timedelta(minutes=5)) for _ in range(3)])
    update = median(times)
    print(f"  one 7-day session (10,080 one-minute samples): update, median of {updates}: {update}; from its "
          f"start {old} ({old.cpu / update.cpu:.0f}x the CPU)")  # fmt: skip
    database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--sample-minutes", type=int, default=10, help="stored samples' length (7-day history)"
    )
    parser.add_argument("--db", help="database URL (default: SQLite files in a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dialect = "postgresql" if args.db else "sqlite"
        print(f"{dialect}:")
        job_runs(args.db, tmp, args.sessions, timedelta(hours=1), args.runs, 1)
        job_runs(args.db, tmp, args.sessions, timedelta(days=7), args.runs, args.sample_minutes)
        one_long_session(args.db, tmp, 20)


if __name__ == "__main__":
    main()
