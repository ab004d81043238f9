"""Shared fixtures: real databases (SQLite files, PostgreSQL), a real collector on a loopback port."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import create_engine, make_url, text

from collector.accounts.tokens import create_api_token
from collector.config import CollectorSettings
from collector.db.database import Database
from collector.server import Collector
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector

PG_URL = os.environ.get("RENTMETER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means: no PostgreSQL here
        return str(exc).splitlines()[0]


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema so each test starts from an empty database."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL database of this test process, beside RENTMETER_TEST_PG_URL's (which only serves to
    create it): `test_3f9a1c_gw0`, named after this checkout and the pytest-xdist worker (`main` without
    xdist), created on first use, so that neither workers nor checkouts on one machine share one."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_URL}: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {problem}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "") or "main"
    checkout = hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6]
    url = make_url(PG_URL)
    name = f"{url.database}_{checkout}_{worker}"
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs twice: on an SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'collector.db'}"
    url = request.getfixturevalue("pg_url")
    reset_postgres(url)
    return url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.close()


@pytest.fixture
def collector_settings(tmp_path: Path) -> CollectorSettings:
    return CollectorSettings(
        listen="127.0.0.1:0",
        db_url=f"sqlite:///{tmp_path / 'collector.db'}",
        rating_interval=timedelta(seconds=1),
        invoice_period=timedelta(days=1),
        invoice_grace=timedelta(seconds=2),
        metrics_listen="127.0.0.1:0",
    )


@pytest.fixture
def collector(collector_settings: CollectorSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    """A real collector serving on a free loopback port, with a real SQLite file; its admin token is
    `admin_token` and in RENTMETER_TOKEN for the CLI."""
    with running_collector(collector_settings) as running:
        token = running.database.call(create_api_token, "admin", "", "tests", datetime.now(UTC))
        running.admin_token = token  # type: ignore[attr-defined]
        monkeypatch.setenv("RENTMETER_TOKEN", token)
        yield running


@pytest.fixture
def admin(collector: Collector) -> Iterator[AdminClient]:
    client = AdminClient.connect(f"127.0.0.1:{collector.port}", collector.admin_token)  # type: ignore[attr-defined]
    yield client
    client.close()


@pytest.fixture
def channel(collector: Collector) -> Iterator[grpc.Channel]:
    """A plain channel to the collector (agents' calls need no API token)."""
    with grpc.insecure_channel(f"127.0.0.1:{collector.port}") as ch:
        yield ch
