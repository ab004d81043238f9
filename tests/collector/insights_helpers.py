"""A small world for insight tests: machines that report, renters in time zones, plans, sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from agent.identity import Identity
from collector.core.clock import to_us
from collector.db.database import Database
from collector.db.models import Machine
from collector.metering.ingest import store_reports
from collector.sessions.rating import rate_sessions
from collector.sessions.rentals import start_session, stop_session
from tests.collector.helpers import SECOND, enrolled_machine, incoming, sample

MINUTE = timedelta(minutes=1)


def machine_of(database: Database, at: datetime, host: str = "h1", cores: int = 4) -> Identity:
    """A machine of class standard, enrolled at `at`, of `host`, with `cores` logical cores."""
    machine = enrolled_machine(database, at)
    values = {"host_id": host, "facts": {"cpu_cores_logical": cores}}
    database.call(lambda db: db.execute(update(Machine).where(Machine.agent_id == machine.agent_id)
                                        .values(**values)))  # fmt: skip
    return machine


def report_minutes(
    database: Database, machine: Identity, first: datetime, minutes: int, *, sequence: int, rx: int = 0
) -> int:
    """Minute-long samples over [first, first + minutes), 60 per report numbered from `sequence`; returns
    the next free sequence number."""
    base = to_us(first) / SECOND
    samples = [sample(base + 60 * i, base + 60 * i + 60, rx=rx) for i in range(minutes)]
    reports = [
        incoming(machine, sequence + n, samples[i : i + 60]) for n, i in enumerate(range(0, minutes, 60))
    ]
    database.call(store_reports, reports, first + minutes * MINUTE)
    return sequence + len(reports)


def rent(
    database: Database,
    machine: Identity,
    renter: str,
    plan: str,
    start: datetime,
    minutes: int,
    *,
    sequence: int,
    rx: int = 0,
) -> tuple[str, int]:
    """A session of `renter` on `machine` reported minute by minute, stopped and rated; its id and the next
    free report sequence."""
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id=renter, plan_name=plan, now=start
    )
    following = report_minutes(database, machine, start, minutes, sequence=sequence, rx=rx)
    database.call(stop_session, rental.id, start + minutes * MINUTE)
    database.call(rate_sessions, start + minutes * MINUTE)
    return rental.id, following
