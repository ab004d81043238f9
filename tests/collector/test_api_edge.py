"""The API edge: concurrent first calls on a fresh database, concurrent token creation, unexpected failures
answered INTERNAL with an error id (never SQL, parameters or a stack), and huge client-supplied ids."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text

from collector.accounts.audit import verify
from collector.accounts.tokens import create_api_token, hash_token
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import access_pb2, plans_pb2, sessions_pb2, wallets_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector
from tests.collector.helpers import plan_request
from tests.conftest import reset_postgres

CALLS = 16


@pytest.fixture
def pg_collector(
    pg_url: str, collector_settings: CollectorSettings
) -> Iterator[tuple[Collector, AdminClient]]:
    """A collector on a freshly emptied PostgreSQL database, and an admin client."""
    reset_postgres(pg_url)
    with running_collector(replace(collector_settings, db_url=pg_url, api_rate_limit=0)) as collector:
        token = collector.database.call(create_api_token, "admin", "", "tests", datetime.now(UTC))
        client = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
        yield collector, client
        client.close()


@pytest.mark.postgres
def test_concurrent_first_admin_calls_on_a_fresh_database_all_succeed(
    pg_collector: tuple[Collector, AdminClient],
) -> None:
    """Each state-changing call appends to the audit log; the first appends used to race to create the
    log's head row and the losers got UNKNOWN carrying the SQL statement."""
    collector, admin = pg_collector

    def top_up(n: int) -> grpc.StatusCode:
        request = wallets_pb2.TopUpRequest(
            renter=f"r{n}", amount="1", currency="EUR", idempotency_key=f"k{n}"
        )
        try:
            admin.wallets.TopUp(request)
        except grpc.RpcError as exc:
            return exc.code()  # type: ignore[no-any-return, attr-defined]
        return grpc.StatusCode.OK

    with ThreadPoolExecutor(CALLS) as pool:
        codes = list(pool.map(top_up, range(CALLS)))
    assert codes == [grpc.StatusCode.OK] * CALLS
    chain = collector.database.call(verify)
    assert chain.intact and chain.entries == 2 * CALLS  # each call and its ledger transaction


@pytest.mark.postgres
def test_concurrent_token_creation_answers_each_caller_with_its_own_token(
    pg_collector: tuple[Collector, AdminClient],
) -> None:
    collector, admin = pg_collector

    def create(n: int) -> access_pb2.CreateApiTokenResponse:
        return admin.access.CreateApiToken(access_pb2.CreateApiTokenRequest(role="renter", subject=f"r{n}",
                                                                            label=f"token {n}"))  # fmt: skip

    with ThreadPoolExecutor(CALLS) as pool:
        answers = list(pool.map(create, range(CALLS)))
    assert [(a.info.subject, a.info.label) for a in answers] == [
        (f"r{n}", f"token {n}") for n in range(CALLS)
    ]
    assert len({a.info.id for a in answers}) == CALLS
    rows = collector.database.call(
        lambda db: dict(db.execute(text("SELECT id, token_hash FROM api_tokens")).all())
    )
    for answer in answers:  # the token handed out is the one the info describes
        assert rows[answer.info.id] == hash_token(answer.token)


def test_an_unexpected_failure_is_internal_with_an_error_id_and_no_sql(
    collector: Collector, admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    admin.plans.CreatePlan(plan_request("p", {"standard": "1"}))
    with collector.database.engine.begin() as db:  # the database breaks under the collector
        db.execute(text("DROP TABLE plan_versions"))
    with caplog.at_level(logging.ERROR), pytest.raises(grpc.RpcError) as failed:
        admin.plans.ListPlans(plans_pb2.ListPlansRequest())
    assert failed.value.code() is grpc.StatusCode.INTERNAL
    details = failed.value.details()
    assert details.startswith("internal error in ListPlans (error id ")
    assert not any(
        word in details for word in ("SELECT", "plan_versions", "sqlite", "Traceback", "[parameters")
    )
    error_id = details.split("error id ")[1].split(")")[0]
    assert any(error_id in record.getMessage() and record.exc_info for record in caplog.records)


def test_a_huge_id_is_quoted_shortened(admin: AdminClient, tmp_path: Path) -> None:
    huge = "s-" + "x" * 100_000
    with pytest.raises(grpc.RpcError) as missing:
        admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=huge))
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    assert len(missing.value.details()) < 200 and "(100002 characters)" in missing.value.details()
