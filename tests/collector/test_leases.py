"""Job leases (collector.db.leases) on SQLite and PostgreSQL: each period of a job is claimed once, a run
under way is not overlapped, a dead holder's lease expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector.db import leases
from collector.db.database import Database

NOW = datetime(2026, 12, 1, 3, 0, 7, tzinfo=UTC)
LEASE = timedelta(seconds=30)
JOB = "close-invoices"


def _claim(database: Database, holder: str, period: int, now: datetime = NOW) -> bool:
    return database.call(leases.claim, JOB, period, holder, now, LEASE)


def test_a_period_is_claimed_once_whoever_asks(database: Database) -> None:
    period = leases.period_of(NOW, timedelta(minutes=1))
    assert period == int(NOW.timestamp()) // 60
    assert _claim(database, "a", period)
    assert not _claim(database, "b", period)
    assert not _claim(database, "a", period)  # the same collector firing twice in a period, too
    assert database.call(leases.holders)[JOB] == ("a", period, False)


def test_the_next_period_waits_for_the_run_under_way_then_goes(database: Database) -> None:
    assert _claim(database, "a", 10)
    assert not _claim(database, "b", 11, NOW + timedelta(seconds=10))  # a's run goes on: not overlapped
    database.call(leases.finish, JOB, "a", 10)
    assert _claim(database, "b", 11, NOW + timedelta(seconds=10))
    assert database.call(leases.holders)[JOB] == ("b", 11, False)
    assert not _claim(database, "a", 10, NOW + timedelta(minutes=5))  # an older period never runs again


def test_a_dead_holders_lease_expires_and_renewal_keeps_a_live_one(database: Database) -> None:
    assert _claim(database, "a", 10)
    later = NOW + timedelta(seconds=20)
    assert database.call(leases.renew, JOB, "a", later, LEASE)  # a is alive: held until later + LEASE
    assert not _claim(database, "b", 11, NOW + timedelta(seconds=40))
    assert _claim(database, "b", 11, later + LEASE + timedelta(seconds=1))  # a stopped renewing: taken over
    assert not database.call(leases.renew, JOB, "a", later, LEASE)  # a learns it lost the lease
    database.call(leases.finish, JOB, "a", 10)  # a late finish of the old period changes nothing
    assert database.call(leases.holders)[JOB] == ("b", 11, False)
