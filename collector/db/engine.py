"""Engine and session factory; schema upgrades through Alembic."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys, a busy timeout and real transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # pysqlite begins transactions only before writes and its own way, which breaks SAVEPOINTs (releasing
    # the first one would commit): SQLAlchemy emits BEGIN itself instead (_sqlite_begin), as its SQLite
    # dialect documentation recommends. Jobs rely on savepoints to isolate one account's failure.
    dbapi_connection.isolation_level = None


# A connection with this execution option begins its SQLite transactions IMMEDIATE: the write lock is taken
# (waiting up to the busy timeout) before the first read, so a transaction that reads and then writes never
# fails with SQLITE_BUSY_SNAPSHOT when another connection wrote in between (ingest's own thread does so).
IMMEDIATE = "rentmeter_sqlite_immediate"


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql(
        "BEGIN IMMEDIATE" if connection.get_execution_options().get(IMMEDIATE) else "BEGIN"
    )


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


# The advisory lock collectors sharing one PostgreSQL database take around schema upgrades.
MIGRATION_LOCK = 0x72656E74  # "rent"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (idempotent). On PostgreSQL, collectors starting
    together upgrade one after the other (an advisory lock): the first upgrades, the others find it done."""
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), revision)
        return
    with engine.connect() as lock:
        lock.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            lock.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
            lock.commit()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """ORM sessions; on SQLite their transactions begin IMMEDIATE (see IMMEDIATE): a call that reads and then
    writes would otherwise fail "database is locked" whenever ingest's thread committed in between."""
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{IMMEDIATE: True})
    return sessionmaker(engine, expire_on_commit=False)
