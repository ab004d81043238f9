"""Behaviour profiles: what the profile job folds in, by hour of week in the renter's zone, incrementally
(a profile built run by run equals one built at once; nothing is counted twice), and erased with the
renter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

import billing
from collector.accounts.privacy import erase_renter
from collector.accounts.renters import update_renter
from collector.accounts.wallets import top_up
from collector.db.database import Database
from collector.db.models import ClassProfile, RenterProfile
from collector.insights.behaviour import ClassOccupancy, RenterBehaviour
from collector.insights.profiling import profile_renters, renters_to_profile
from collector.insights.weekly import LENGTH_LABELS, by_hour_of_week
from collector.sessions.plans import create_plan
from tests.collector.insights_helpers import machine_of, rent

HOUR_US = 3_600_000_000
GRACE = timedelta(hours=1)
# Monday 23 November 2026, 22:00 in Shanghai (UTC+8).
MONDAY_22 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def run_job(database: Database, now: datetime) -> int:
    renters = database.call(renters_to_profile, now - GRACE)
    return database.call(profile_renters, now, now - GRACE, renters).processed


def profile(database: Database, renter: str) -> RenterBehaviour | None:
    row = database.call(lambda db: db.get(RenterProfile, renter))
    return None if row is None else RenterBehaviour.from_data(row.data)


def test_hours_of_week_follow_the_zone_and_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Sunday 29 March 2026: 02:00 local does not exist; 01:30-03:30 local is one real hour... and a half.
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET
    pieces = list(by_hour_of_week(start, start + timedelta(hours=1, minutes=30), berlin))
    assert pieces == [(6 * 24 + 1, HOUR_US // 2), (6 * 24 + 3, HOUR_US)]


def test_the_job_folds_sessions_and_top_ups_once(database: Database) -> None:
    machine = machine_of(database, MONDAY_22 - timedelta(days=1))
    database.call(create_plan, billing.simple_document("p", "EUR", {"standard": "6.00"}), MONDAY_22)
    database.call(update_renter, "alice", MONDAY_22 - timedelta(days=1), time_zone="Asia/Shanghai")
    database.call(top_up, "alice", billing.Money(2000, "EUR"), "t1", MONDAY_22 - timedelta(hours=1))
    _, sequence = rent(database, machine, "alice", "p", MONDAY_22, 120, sequence=1, rx=10**6)
    assert run_job(database, MONDAY_22 + timedelta(hours=2)) == 1  # ended 0 h ago: only the top-up
    first = profile(database, "alice")
    assert first is not None and first.sessions == 0 and first.top_ups["EUR"].count == 1
    assert run_job(database, MONDAY_22 + timedelta(hours=3, minutes=1)) == 1
    done = profile(database, "alice")
    assert done is not None
    assert done.sessions == 1 and done.rented_us == 2 * HOUR_US
    assert done.hours_us[22] == done.hours_us[23] == HOUR_US and sum(done.hours_us) == 2 * HOUR_US
    assert done.night_us == HOUR_US  # 23:00-24:00 local
    assert done.lengths[LENGTH_LABELS.index("1h-3h")] == 1
    assert done.classes == {"standard": 2 * HOUR_US}
    assert done.use.covered_us == 2 * HOUR_US and done.use.idle_us == 0  # samples at 10 % CPU
    assert done.use.rx_bytes == 120 * 10**6
    assert done.use.cpu_capacity_us == 4 * 2 * HOUR_US
    assert done.spend == {"EUR": {"2026-11-23": 1200}}
    assert done.top_ups["EUR"].total_minor == 2000 and done.top_ups["EUR"].balance_before_minor == 0
    assert done.wallet == {"EUR": 2000}
    assert run_job(database, MONDAY_22 + timedelta(hours=5)) == 0  # nothing new: nothing folded again
    assert profile(database, "alice") == done

    # A second session a day later (Tuesday 22:00 local), and a second renter on the same machine.
    tuesday = MONDAY_22 + timedelta(days=1)
    _, sequence = rent(database, machine, "alice", "p", tuesday, 30, sequence=sequence)
    rent(database, machine, "bob", "p", tuesday + timedelta(hours=1), 10, sequence=sequence)
    assert run_job(database, tuesday + timedelta(hours=3)) == 2
    incremental = profile(database, "alice")
    assert incremental is not None and incremental.sessions == 2
    assert incremental.hours_us[24 + 22] == HOUR_US // 2
    assert incremental.spend == {"EUR": {"2026-11-23": 1200 + 300}}

    # Built again at once from nothing, the profile is the same.
    database.call(lambda db: db.query(RenterProfile).delete())
    database.call(lambda db: db.query(ClassProfile).delete())
    run_job(database, tuesday + timedelta(hours=3))
    assert profile(database, "alice") == incremental
    rows = database.call(lambda db: list(db.scalars(select(ClassProfile))))
    assert [(r.host_id, r.machine_class) for r in rows] == [("h1", "standard")]
    occupancy = ClassOccupancy.from_data(rows[0].data)
    assert occupancy.sessions == 3 and occupancy.revenue == {"EUR": 1200 + 300 + 100}
    assert occupancy.hours_us[14] == HOUR_US  # Monday 14:00 UTC


def test_an_erased_renter_loses_its_profile_for_good(database: Database) -> None:
    machine = machine_of(database, MONDAY_22 - timedelta(days=1))
    database.call(create_plan, billing.simple_document("p", "EUR", {"standard": "6.00"}), MONDAY_22)
    _, sequence = rent(database, machine, "alice", "p", MONDAY_22, 30, sequence=1)
    run_job(database, MONDAY_22 + timedelta(hours=2))
    assert profile(database, "alice") is not None
    database.call(erase_renter, "alice", MONDAY_22 + timedelta(hours=2))
    assert profile(database, "alice") is None
    rent(database, machine, "alice", "p", MONDAY_22 + timedelta(hours=3), 30, sequence=sequence)
    assert run_job(database, MONDAY_22 + timedelta(hours=6)) == 0
    assert profile(database, "alice") is None
