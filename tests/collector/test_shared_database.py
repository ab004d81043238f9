"""Collectors sharing one database race for the same work: the same report arriving at two of them at once
(an agent resending after a hop), and a token revoked on one while another has it cached."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import func, select

from agent.identity import Identity
from collector.accounts.tokens import create_api_token
from collector.config import CollectorSettings
from collector.db.database import Database
from collector.db.models import Report, Sample
from collector.metering.ingest import AckStatus, store_reports
from protos.rentmeter.v1 import access_pb2, plans_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector
from tests.collector.helpers import enrolled_machine, incoming, sample
from tests.conftest import reset_postgres

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ROUNDS = 20


def _race(databases: list[Database], batches: list[list[object]]) -> list[list[AckStatus]]:
    """Store one batch per database at the same moment; each batch's ack statuses."""
    results: list[list[AckStatus]] = [[] for _ in databases]
    barrier = threading.Barrier(len(databases))

    def store(index: int) -> None:
        barrier.wait()
        acks = databases[index].call(store_reports, batches[index], START + timedelta(minutes=1))
        results[index] = [ack.status for ack in acks]

    threads = [threading.Thread(target=store, args=(i,)) for i in range(len(databases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.postgres
def test_the_same_report_at_two_collectors_at_once_is_stored_once(pg_url: str) -> None:
    """PostgreSQL only: several collectors share PostgreSQL, never an SQLite file."""
    reset_postgres(pg_url)
    database = Database(pg_url)
    machine: Identity = enrolled_machine(database, START - timedelta(hours=1))
    others = [Database(database.url, migrate=False) for _ in range(2)]
    base = START.timestamp()
    try:
        _race_reports(others, machine, base)
        stored = database.call(lambda db: list(db.scalars(select(Report.sequence).order_by(Report.sequence))))
        assert stored == list(range(1, ROUNDS + 2))
        assert database.call(lambda db: db.scalar(select(func.count()).select_from(Sample))) == ROUNDS + 1
    finally:
        for db in [*others, database]:
            db.close()


def _race_reports(others: list[Database], machine: Identity, base: float) -> None:
    """ROUNDS reports, each sent to both at once; then two different reports under one sequence."""
    for n in range(1, ROUNDS + 1):
        report = incoming(machine, n, [sample(base + n, base + n + 1)])
        statuses = _race(others, [[report], [report]])
        assert sorted(s.value for batch in statuses for s in batch) == ["accepted", "duplicate"], n
    clash = [incoming(machine, ROUNDS + 1, [sample(base + 100, base + 101, rx=rx)]) for rx in (1, 2)]
    statuses = _race(others, [[clash[0]], [clash[1]]])  # one sequence, two different reports
    assert sorted(s.value for batch in statuses for s in batch) == ["accepted", "conflict"]


@pytest.mark.postgres
def test_a_token_revoked_on_one_collector_is_refused_by_another_at_once(pg_url: str) -> None:
    """The other collector has the token cached (for 30 s); the control bus makes it forget at once."""
    reset_postgres(pg_url)
    settings = CollectorSettings(listen="127.0.0.1:0", db_url=pg_url)
    with running_collector(settings) as first, running_collector(settings) as second:
        admin_token = first.database.call(create_api_token, "admin", "", "t", datetime.now(UTC))
        a = AdminClient.connect(f"127.0.0.1:{first.port}", admin_token)
        created = a.access.CreateApiToken(access_pb2.CreateApiTokenRequest(role="admin", label="short-lived"))
        b = AdminClient.connect(f"127.0.0.1:{second.port}", created.token)
        try:
            b.plans.ListPlans(plans_pb2.ListPlansRequest())  # cached on the second collector now
            a.access.RevokeApiToken(access_pb2.RevokeApiTokenRequest(id=created.info.id))
            revoked_at = time.monotonic()
            with pytest.raises(grpc.RpcError) as refused:
                while time.monotonic() - revoked_at < 2.0:  # the cache alone would accept it for 30 s
                    b.plans.ListPlans(plans_pb2.ListPlansRequest())
                    time.sleep(0.02)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        finally:
            a.close()
            b.close()
