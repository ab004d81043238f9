"""The group-commit writer after a failed batch: a stream whose reports were not stored gets none of its
later reports stored either (they would overtake the lost ones); other streams go on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agent.identity import Identity
from collector.db.database import Database
from collector.db.models import Report
from collector.metering.writer import ReportWriter
from tests.collector.helpers import enrolled_machine, incoming, sample

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T0 = NOW.timestamp() - 3600


class FailingOnce:
    """The database, whose first ingest transaction fails (as a deadlock or a lost connection would)."""

    def __init__(self, database: Database) -> None:
        self.database, self.failed = database, False

    async def run_core(self, fn: Any, *args: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the database went away")
        return await self.database.run_core(fn, *args)


class Stream:
    """What the servicer submits as the origin of a stream's reports."""


def report(identity: Identity, sequence: int):  # type: ignore[no-untyped-def]
    return incoming(identity, sequence, [sample(T0 + sequence, T0 + sequence + 1)])


def test_a_failed_batch_keeps_its_streams_later_reports_out(database: Database) -> None:
    failing, healthy = (
        enrolled_machine(database, NOW - timedelta(hours=2)),
        enrolled_machine(database, NOW - timedelta(hours=2)),
    )
    stream, other = Stream(), Stream()

    async def scenario() -> None:
        writer = ReportWriter(FailingOnce(database), now=lambda: NOW)  # type: ignore[arg-type]
        writer.start()
        try:
            first = writer.submit([report(failing, 1)], stream)
            await asyncio.gather(first, return_exceptions=True)
            later = writer.submit([report(failing, 2)], stream)  # pipelined behind the failed one
            elsewhere = writer.submit([report(healthy, 1)], other)
            with pytest.raises(ConnectionError):
                await first
            with pytest.raises(ConnectionError):
                await later
            assert [ack.status.value for ack in await elsewhere] == ["accepted"]
            # The agent resends 1 and 2 in order on a new stream: both are stored.
            again = await writer.submit([report(failing, 1), report(failing, 2)], Stream())
            assert [ack.status.value for ack in again] == ["accepted", "accepted"]
        finally:
            await writer.stop()

    asyncio.run(scenario())
    stored = database.call(
        lambda db: list(db.execute(select(Report.agent_id, Report.sequence).order_by(Report.id)))
    )
    assert [(a == failing.agent_id, s) for a, s in stored] == [(False, 1), (True, 1), (True, 2)]
