"""Insight jobs on generated history: the profile job and the advice job (offers and plan
recommendations) over N renters x D days, on SQLite and (with RENTMETER_TEST_PG_URL or --db) PostgreSQL.

    python bench/insights.py [--renters 10000] [--days 30] [--sample-minutes 60] [--db URL] [--seed 1]

The history is rentmeter simulate's (rentmeter/simulation.py: night gamers, weekday GPU trainers, weekend
students in their zones), written with SQLAlchemy Core for speed (sessions, samples of `--sample-minutes`
as a compacted spool sends them, GPU samples), not through the session code. Then, timed: the profile
job from nothing; the profile job again with nothing new (the incremental run); the advice job (every
renter's last 30 days re-rated under the four plans with the rating engine). Baseline measured in the
same run: one GROUP BY over every sample (what any pass over the history must at least read).
Default database: an SQLite file in a temporary directory; --db URL must name an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.core.clock import to_us  # noqa: E402
from collector.db.database import Database  # noqa: E402
from collector.db.models import Base, GpuSample, Machine, PricePlan, RentalSession, Renter, Sample  # noqa: E402
from collector.insights.advising import AdviceRules, refresh_advice  # noqa: E402
from collector.insights.profiling import refresh_profiles  # noqa: E402
from collector.sessions.plans import create_plan  # noqa: E402
from rentmeter.simulation import PLANS, World, plan_world  # noqa: E402

CHUNK = 20_000
CPU = [0.0]  # CPU seconds of the last timed() call, in this process (SQLite's work included)


def write_history(database: Database, world: World, until: datetime, step: timedelta) -> tuple[int, int]:
    """Plans, machines, renters, sessions and samples of `world`; returns (sessions, samples)."""
    start = until - timedelta(days=31)
    for document in PLANS.values():
        database.call(create_plan, document, start)
    plan_ids = {
        name: id_
        for name, id_ in database.call(lambda db: list(db.execute(select(PricePlan.name, PricePlan.id))))
    }
    machines = [
        {"agent_id": f"m-{name}-{i}", "public_key": b"\0" * 32, "machine_class": name, "label": "",
         "facts": {"cpu_cores_logical": 8, "gpus": [{"name": "NVIDIA A100", "uuid": f"GPU-{i}"}]}
         if name == "gpu" else {"cpu_cores_logical": 8}, "enrolled_at": start, "last_sequence": 0,
         "host_id": f"host-{i % 3}"}
        for name, count in world.machines.items() for i in range(count)
    ]  # fmt: skip
    renters = [{"id": r, "created_at": start, "invoiced_until": start, "time_zone": zone}
               for r, (_, zone) in world.renters.items()]  # fmt: skip
    sessions, samples, gpus = [], [], []
    for n, rental in enumerate(world.rentals):
        agent = f"m-{rental.persona.machine_class}-{rental.machine}"
        sessions.append({"id": f"s-{n:09d}", "agent_id": agent, "renter_id": rental.renter,
                         "plan_id": plan_ids[rental.plan], "machine_class": rental.persona.machine_class,
                         "resources": {}, "started_at": rental.start, "ended_at": rental.end, "cost_minor": 0,
                         "covered_us": 0})  # fmt: skip
        moment = rental.start
        while moment < rental.end:
            end = min(moment + step, rental.end)
            seconds = (end - moment).total_seconds()
            cpu = 0.6 if rental.persona.name != "weekend student" else 0.02
            span = {"agent_id": agent, "report_sequence": 0, "start_us": to_us(moment), "end_us": to_us(end)}
            samples.append({**span,
                            "cpu_busy_us": int(cpu * 8 * seconds * 1e6), "cpu_utilization": cpu,
                            "memory_used_bytes": 2**33, "memory_total_bytes": 2**35, "disk_read_bytes": 0,
                            "disk_write_bytes": 0, "net_rx_bytes": int(seconds * 10**6),
                            "net_tx_bytes": int(seconds * 10**5)})  # fmt: skip
            if rental.persona.machine_class == "gpu":
                gpus.append({**span, "gpu_index": 0, "uuid": f"GPU-{rental.machine}",
                             "utilization_percent": 90, "memory_utilization_percent": 50,
                             "memory_used_bytes": 2**34, "memory_total_bytes": 2**36, "power_mw": 300_000,
                             "energy_mj": int(300_000 * seconds), "processes": {}})  # fmt: skip
            moment = end
    for model, rows in ((Machine, machines), (Renter, renters), (RentalSession, sessions), (Sample, samples),
                        (GpuSample, gpus)):  # fmt: skip
        for first in range(0, len(rows), CHUNK):
            database.call(_insert, model, rows[first : first + CHUNK])
    return len(sessions), len(samples) + len(gpus)


def _insert(db: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    db.execute(insert(model), rows)


def timed(what: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of `what()` and its result; the CPU seconds this process spent go to CPU[0]."""
    began, cpu = time.perf_counter(), time.process_time()
    result = what()
    CPU[0] = time.process_time() - cpu
    return time.perf_counter() - began, result


def run(url: str, args: argparse.Namespace) -> None:
    until = datetime(2026, 11, 30, tzinfo=UTC)
    database = Database(url)
    world = plan_world(args.renters, args.days, args.seed, until)
    took, (sessions, samples) = timed(
        lambda: write_history(database, world, until, timedelta(minutes=args.sample_minutes))
    )
    name = database.engine.dialect.name
    print(
        f"{name}: {len(world.renters):,} renters, {sessions:,} sessions, {samples:,} samples "
        f"written in {took:.1f} s"
    )
    now = until + timedelta(hours=2)
    profiles, first = timed(lambda: asyncio.run(refresh_profiles(database, now, timedelta(hours=1))))
    profiles_cpu = CPU[0]
    again, second = timed(
        lambda: asyncio.run(refresh_profiles(database, now + timedelta(hours=1), timedelta(hours=1)))
    )
    again_cpu = CPU[0]
    advice, advised = timed(lambda: asyncio.run(refresh_advice(database, now, AdviceRules(days=30))))
    advice_cpu = CPU[0]
    totals = (func.count(), func.sum(Sample.end_us - Sample.start_us), func.sum(Sample.net_rx_bytes))
    query = select(Sample.agent_id, *totals).group_by(Sample.agent_id)
    baseline, _ = timed(lambda: database.call(lambda db: db.execute(query).all()))
    baseline_cpu = CPU[0]
    per = len(world.renters)
    rows = [
        ("profile job, from nothing", profiles, profiles_cpu, f"{first.processed:,} renters, "
         f"{1000 * profiles_cpu / per:.1f} ms CPU per renter, failed {len(first.failed)}"),
        ("profile job, nothing new", again, again_cpu, f"{second.processed:,} renters"),
        ("advice job (4 plans)", advice, advice_cpu, f"{advised.processed:,} renters, "
         f"{1000 * advice_cpu / per:.1f} ms CPU per renter, failed {len(advised.failed)}"),
        ("baseline GROUP BY samples", baseline, baseline_cpu, ""),
    ]  # fmt: skip
    for what, wall, cpu, note in rows:
        print(f"  {what:27} {wall:8.1f} s wall {cpu:8.1f} s CPU  {note}")
    database.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--renters", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sample-minutes", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    if args.db:
        run(args.db, args)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/insights.db", args)
    pg = os.environ.get("RENTMETER_TEST_PG_URL")
    if pg:
        from tests.conftest import reset_postgres

        reset_postgres(pg)
        run(pg, args)


if __name__ == "__main__":
    main()
