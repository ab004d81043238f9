"""Sessions rated from their database checkpoints cost exactly what rating them from the start gives,
on SQLite and PostgreSQL: as usage arrives over days, when a late report fills a gap before the checkpoint,
and when the plan gains a version that changes prices already checkpointed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from agent.identity import Identity
from collector.core.clock import to_us
from collector.db.database import Database
from collector.db.models import RatingCheckpoint, RentalSession
from collector.metering.ingest import store_reports
from collector.sessions.plans import add_version, create_plan
from collector.sessions.rating import cumulative_usage, rate_sessions, rated_usage, session_total
from collector.sessions.rentals import start_session
from tests.collector.helpers import SECOND, enrolled_machine, incoming, sample

START = datetime(2026, 11, 23, 17, 40, tzinfo=UTC)  # a Monday, 18:40 in Berlin
CAFE = """
name = "cafe"
currency = "EUR"
timezone = "Europe/Berlin"

[session]
increment = "15m"
daily_cap = "9.00"

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
price = "0.55"

[[prices]]
meter = "traffic_in"
mode = "graduated"
tiers = [{ up_to = "3", price = "0.10" }, { price = "0.04" }]

[tax]
name = "VAT"
percent = "19"
"""
STEP = timedelta(minutes=50)  # between ratings; samples last ten minutes, five to a report


def report_span(database: Database, machine: Identity, sequence: int, first: datetime, minutes: int) -> None:
    """Ten-minute samples over [first, first + minutes) in reports of five, numbered from `sequence`;
    each sample receives 1.3 GB."""
    base = to_us(first) // SECOND
    samples = [sample(base + 600 * i, base + 600 * (i + 1), rx=1_300_000_000) for i in range(minutes // 10)]
    reports = [
        incoming(machine, sequence + n, samples[i : i + 5]) for n, i in enumerate(range(0, len(samples), 5))
    ]
    database.call(store_reports, reports, first + timedelta(minutes=minutes))


def from_the_start(db: Session, session_id: str, now: datetime) -> tuple[int, int, list[object]]:
    rental = db.get_one(RentalSession, session_id)
    usage, charges = cumulative_usage(db, rental, now)
    return session_total(rental, charges, "EUR").minor, usage.covered_us, list(charges)


def from_checkpoint(db: Session, session_id: str, now: datetime) -> tuple[int, int, list[object]]:
    rental = db.get_one(RentalSession, session_id)
    rated = rated_usage(db, rental, now, advance=False)
    assert rated is not None
    usage, charges = rated
    return session_total(rental, charges, "EUR").minor, usage.covered_us, list(charges)


def stored(database: Database, session_id: str) -> tuple[int, int]:
    rental = database.call(lambda db: db.get_one(RentalSession, session_id))
    return rental.cost_minor, rental.covered_us


@pytest.fixture
def rented(database: Database) -> tuple[Identity, str]:
    database.call(create_plan, CAFE, START - timedelta(days=1))
    machine = enrolled_machine(database, START - timedelta(hours=1))
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="cafe", now=START
    )
    return machine, rental.id


def test_three_days_of_ratings_match_rating_from_the_start(
    database: Database, rented: tuple[Identity, str]
) -> None:
    machine, session_id = rented
    sequence, now = 1, START
    advanced = set()
    while now < START + timedelta(days=3):
        report_span(database, machine, sequence, now, 50)
        sequence, now = sequence + 10, now + STEP
        database.call(rate_sessions, now)
        whole = database.call(from_the_start, session_id, now)
        assert stored(database, session_id) == whole[:2]
        assert database.call(from_checkpoint, session_id, now) == whole
        row = database.call(lambda db: db.get_one(RatingCheckpoint, session_id))
        advanced.add(row.until_us)
    # Local midnights and the night window's edges: about three of each per day
    assert len(advanced - {None}) >= 8


def test_a_late_report_before_the_checkpoint_is_rated(
    database: Database, rented: tuple[Identity, str]
) -> None:
    machine, session_id = rented
    report_span(database, machine, 1, START, 300)  # until 22:40 local: the night window began at 22:00
    gap_end = START + timedelta(hours=5, minutes=50)  # an hour missing, then more
    report_span(database, machine, 200, gap_end, 600)
    now = gap_end + timedelta(minutes=600)
    database.call(rate_sessions, now)
    row = database.call(lambda db: db.get_one(RatingCheckpoint, session_id))
    assert row.until_us is not None and row.until_us > to_us(START + timedelta(hours=5))
    before = stored(database, session_id)
    report_span(database, machine, 1000, START + timedelta(hours=5), 50)  # renumbered, from the spool
    database.call(rate_sessions, now + timedelta(seconds=5))
    whole = database.call(from_the_start, session_id, now)
    assert stored(database, session_id) == whole[:2]
    assert whole[1] > before[1]


def test_a_new_plan_version_in_force_before_the_checkpoint_rates_from_the_start(
    database: Database, rented: tuple[Identity, str]
) -> None:
    machine, session_id = rented
    report_span(database, machine, 1, START, 900)
    now = START + timedelta(minutes=900)
    database.call(rate_sessions, now)
    before = stored(database, session_id)
    since = 'currency = "EUR"\neffective_from = "2026-11-23T18:00:00Z"\n'
    cheaper = CAFE.replace('currency = "EUR"\n', since).replace('price = "1.20"', 'price = "0.80"')
    database.call(add_version, "cafe", cheaper, now)
    database.call(rate_sessions, now + timedelta(seconds=5))
    after = stored(database, session_id)
    assert after == database.call(from_the_start, session_id, now)[:2]
    assert after[0] < before[0]


def test_a_rating_with_nothing_new_reads_no_samples(database: Database, rented: tuple[Identity, str]) -> None:
    machine, session_id = rented
    report_span(database, machine, 1, START, 24 * 60)
    now = START + timedelta(days=1)
    database.call(rate_sessions, now)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", listener)
    try:
        database.call(rate_sessions, now + timedelta(seconds=5))
        report_span(database, machine, 500, now, 10)
        statements.clear()
        database.call(rate_sessions, now + timedelta(minutes=10))
    finally:
        event.remove(database.engine, "before_cursor_execute", listener)
    reads = [s for s in statements if "FROM samples" in s]
    assert len(reads) <= 2  # the new part of the open segment only, whatever the session's length
    assert (
        stored(database, session_id)
        == database.call(from_the_start, session_id, now + timedelta(minutes=10))[:2]
    )


PLANS = {
    "new reports of a machine": (
        "SELECT max(id), min(start_us) FROM reports WHERE agent_id = 'm' AND id > 5",
        "ix_reports_agent_id",
    ),
    "late usage of a session": (
        "SELECT id FROM reports WHERE agent_id = 'm' AND received_at > '2026-01-01' AND start_us < 9"
        " AND end_us > 1",
        "ix_reports_agent_received",
    ),
    "sessions not yet invoiced": (
        "SELECT id FROM rental_sessions WHERE ended_at IS NULL OR ended_at > '2026-01-01'",
        "ix_rental_sessions_ended",
    ),
    "invoiced per session": (
        "SELECT session_id, sum(amount_minor) FROM invoice_lines WHERE session_id IN ('a', 'b')"
        " GROUP BY session_id",
        "ix_invoice_lines_session_id",
    ),
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_jobs_queries_use_their_indexes_on_sqlite(tmp_path: object, name: str) -> None:
    database = Database(f"sqlite:///{tmp_path}/plans.db")
    query, index = PLANS[name]
    with database.engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
    database.close()
    assert index in plan, plan
