"""The durable outbox: signed reports wait here (SQLite, WAL) until the collector acknowledges them.

A report gets its sequence number in the same transaction that stores it, so sequence numbers survive
restarts and never repeat, and a report is never sent before it is on disk.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

SPOOL_FILE = "spool.db"


class Spool:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS reports (sequence INTEGER PRIMARY KEY, envelope BLOB NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")

    def append(self, build: Callable[[int], bytes]) -> int:
        """Store build(sequence) under the next sequence number, durably; return the number."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT value FROM meta WHERE key = 'last_sequence'").fetchone()
                sequence = (row[0] if row else 0) + 1
                self._db.execute("INSERT INTO reports VALUES (?, ?)", (sequence, build(sequence)))
                self._db.execute(
                    "INSERT INTO meta VALUES ('last_sequence', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (sequence,),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return sequence

    def pending(self, after: int = 0, limit: int = 100) -> list[tuple[int, bytes]]:
        """Up to `limit` unacknowledged reports with sequence > after, oldest first."""
        with self._lock:
            query = "SELECT sequence, envelope FROM reports WHERE sequence > ? ORDER BY sequence LIMIT ?"
            return list(self._db.execute(query, (after, limit)))

    def acknowledge(self, sequences: Iterable[int]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM reports WHERE sequence = ?", [(s,) for s in sequences])
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM reports").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
