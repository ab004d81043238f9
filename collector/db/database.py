"""Runs blocking SQLAlchemy work off the event loop, one transaction per call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from collector.db.engine import IMMEDIATE, make_engine, session_factory, upgrade

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """An engine, its session factory and the threads that use them.

    SQLite allows one writer at a time, so it gets one thread: every call is serialised and none waits
    on a lock. PostgreSQL gets a small pool.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if migrate:
            upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        workers = 1 if self.engine.dialect.name == "sqlite" else 8
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
        # Ingest has a thread of its own, so that storing reports never queues behind a job's or an admin
        # call's work (SQLite: WAL lets readers go on beside it; writers wait on its lock in turn).
        self._ingest = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-ingest")

    def call(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run fn(session, ...) in one transaction on this thread: commit on return, roll back on error."""
        with self.sessions.begin() as session:
            return fn(session, *args, **kwargs)

    async def run(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Like call(), on the database threads, awaitable from the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self.call, fn, *args, **kwargs))

    async def run_core(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """fn(connection, ...) in one transaction on the ingest thread, without an ORM session (the hot
        ingest path: SQLAlchemy Core only)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._ingest, partial(self._core, fn, *args, **kwargs))

    def _core(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        with self.engine.connect().execution_options(**{IMMEDIATE: True}) as connection, connection.begin():
            return fn(connection, *args, **kwargs)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._ingest.shutdown(wait=True)
        self.engine.dispose()
