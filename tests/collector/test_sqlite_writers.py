"""SQLite's two writers: the ORM calls' thread and ingest's own thread (Database.run_core). A call that
reads and then writes must not fail "database is locked" because ingest committed in between."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from collector.db.database import Database


def test_a_call_that_reads_then_writes_waits_out_ingest_instead_of_failing(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'writers.db'}")
    try:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE scratch (writer TEXT)")
        ingest = threading.Thread(
            target=database._core,  # the ingest thread's own transaction, as run_core runs it
            args=(lambda connection: connection.execute(text("INSERT INTO scratch VALUES ('ingest')")),),
        )

        def read_then_write(session: Session) -> None:
            session.execute(text("SELECT count(*) FROM scratch")).scalar_one()
            ingest.start()
            time.sleep(0.3)  # ingest tries to write (and commit) while this transaction is open
            session.execute(text("INSERT INTO scratch VALUES ('call')"))

        database.call(read_then_write)
        ingest.join(timeout=10)
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT writer FROM scratch ORDER BY rowid")).scalars().all()
        assert rows == ["call", "ingest"]  # ingest waited for the call's transaction, and both were kept
    finally:
        database.close()
