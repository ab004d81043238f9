"""Monthly partitions of the raw tables on PostgreSQL (collector.db.partitions), plain tables on SQLite;
retention drops whole months once nothing in them is still needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from agent.identity import Identity
from collector.db.database import Database
from collector.db.models import Invoice, Report, Sample
from collector.db.partitions import Month, create_month, ensure_months, is_partitioned, months_of
from collector.invoicing.invoices import close_invoices
from collector.metering.retention import purge_raw_data
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session, stop_session
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import HOUR, PLAN, START, report_every_second

RETENTION = timedelta(days=180)
FAR = datetime(2030, 3, 10, tzinfo=UTC)  # long after the months the migration created


@pytest.fixture
def machine(database: Database) -> Identity:
    machine = enrolled_machine(database, START - HOUR)
    database.call(create_plan, PLAN, START - HOUR)
    return machine


def _count(database: Database, table: str) -> int:
    return int(database.call(lambda db: db.scalar(text(f"SELECT count(*) FROM {table}"))))


def test_postgres_partitions_by_month_and_sqlite_does_not(database: Database) -> None:
    partitioned = database.call(lambda db: is_partitioned(db.connection()))
    assert partitioned == (database.engine.dialect.name == "postgresql")
    made = database.call(ensure_months, FAR)
    if not partitioned:
        assert made == 0
        return
    assert made == 3 * 3  # March to May 2030, for three tables
    months = database.call(lambda db: months_of(db.connection(), "samples"))
    assert {Month(2030, 3), Month(2030, 4), Month(2030, 5)} <= set(months)
    assert database.call(ensure_months, FAR) == 0  # done already


@pytest.mark.postgres
def test_a_month_created_late_takes_its_rows_from_the_default_partition(
    database: Database, machine: Identity
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    report_every_second(database, machine, START, 30)  # November 2026: before the first month created
    assert _count(database, "samples_default") == 30
    assert database.call(lambda db: create_month(db.connection(), "samples", Month(2026, 11)))
    assert _count(database, "samples_default") == 0
    assert _count(database, "samples_p2026_11") == 30
    assert database.call(lambda db: db.scalar(select(func.count()).select_from(Sample))) == 30


@pytest.mark.postgres
def test_retention_drops_a_month_whole_once_nothing_in_it_is_needed(
    database: Database, machine: Identity
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    for table in ("samples", "gpu_samples", "reports"):
        database.call(lambda db, t=table: create_month(db.connection(), t, Month(2026, 11)))
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r", plan_name="p", now=START)
    report_every_second(database, machine, START, 60)
    database.call(stop_session, rental.id, START + timedelta(minutes=1))
    later = START + timedelta(days=200)
    database.call(purge_raw_data, later, RETENTION)  # not invoiced: the month is held
    assert _count(database, "samples_p2026_11") == 60
    (invoice,) = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    outcome = database.call(purge_raw_data, later, RETENTION)
    assert outcome.produced == 3  # three partitions dropped, no row deleted one by one
    months = database.call(lambda db: months_of(db.connection(), "samples"))
    assert Month(2026, 11) not in months
    assert database.call(lambda db: db.scalar(select(func.count()).select_from(Report))) == 0
    assert database.call(lambda db: db.get(Invoice, invoice.id).total_minor) == 60  # the invoice stays
