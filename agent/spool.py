"""The durable outbox (SQLite, WAL): every sample is on disk the moment it is taken, every signed report
until the collector acknowledges it.

- Samples wait in `samples` until they are sealed into a report; sealing allocates the next sequence
  number, stores the signed report and removes its samples in one transaction, so sequence numbers survive
  restarts and never repeat, and a kill -9 loses at most the interval being sampled.
- The spool is bounded (`max_bytes`). When it is full, the oldest reports that were never handed to a
  stream are merged into coarser ones by a callback that re-signs them; totals are kept, nothing is dropped.
  Reports already handed to a stream (`sent` mark, persisted) are never merged: the collector may have
  stored them, and their resend must stay an exact duplicate.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

SPOOL_FILE = "spool.db"
# About 500 bytes a report at the defaults (5 one-second samples): 100 MiB hold about 24 days.
DEFAULT_MAX_BYTES = 100 * 2**20
MERGE_GROUP = 720  # reports merged at a time: one hour of 5-second reports

# build(sequence, samples) -> signed report envelope; merge(sequence, envelopes) -> one envelope
BuildReport = Callable[[int, list[bytes]], bytes]
MergeReports = Callable[[int, list[bytes]], bytes]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reports (sequence INTEGER PRIMARY KEY, envelope BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)


class Spool:
    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed transaction survives a crash of the agent (kill -9); only a power
        # cut may lose the last ones. One fsync per checkpoint instead of one per sample.
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._bytes = self._db.execute("SELECT coalesce(sum(length(envelope)), 0) FROM reports").fetchone()[0]

    # --- samples ----------------------------------------------------------------------------------

    def add_sample(self, data: bytes) -> None:
        with self._lock:
            self._db.execute("INSERT INTO samples (data) VALUES (?)", (data,))

    def sample_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM samples").fetchone()[0])

    def seal(self, build: BuildReport) -> int | None:
        """Turn every waiting sample into one signed report; return its sequence (None: no samples)."""
        with self._lock, self._transaction():
            rows = self._db.execute("SELECT id, data FROM samples ORDER BY id").fetchall()
            if not rows:
                return None
            sequence = self._meta("last_sequence") + 1
            envelope = build(sequence, [data for _, data in rows])
            self._db.execute("INSERT INTO reports VALUES (?, ?)", (sequence, envelope))
            self._db.execute("DELETE FROM samples WHERE id <= ?", (rows[-1][0],))
            self._set_meta("last_sequence", sequence)
        self._bytes += len(envelope)
        return sequence

    # --- reports ----------------------------------------------------------------------------------

    def pending(self, after: int = 0, limit: int = 100) -> list[tuple[int, bytes]]:
        """Up to `limit` unacknowledged reports with sequence > after, oldest first."""
        with self._lock:
            query = "SELECT sequence, envelope FROM reports WHERE sequence > ? ORDER BY sequence LIMIT ?"
            return list(self._db.execute(query, (after, limit)))

    def take_for_sending(self, after: int = 0, limit: int = 100) -> list[tuple[int, bytes]]:
        """Like pending(), and mark them sent in the same step, so that compaction can never merge a
        report that is on its way to the collector."""
        with self._lock:
            query = "SELECT sequence, envelope FROM reports WHERE sequence > ? ORDER BY sequence LIMIT ?"
            batch = list(self._db.execute(query, (after, limit)))
            if batch and batch[-1][0] > self._meta("sent"):
                self._set_meta("sent", batch[-1][0])
            return batch

    def acknowledge(self, sequences: Iterable[int]) -> None:
        with self._lock, self._transaction():
            for sequence in sequences:
                row = self._db.execute(
                    "DELETE FROM reports WHERE sequence = ? RETURNING length(envelope)", (sequence,)
                )
                for (size,) in row.fetchall():
                    self._bytes -= size

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM reports").fetchone()[0])

    @property
    def size_bytes(self) -> int:
        return self._bytes

    # --- bounding -----------------------------------------------------------------------------------

    def compact(self, merge: MergeReports) -> int:
        """While over max_bytes, merge the oldest never-sent reports; return how many reports merged."""
        merged = 0
        while self._bytes > self.max_bytes:
            with self._lock, self._transaction():
                rows = self._db.execute(
                    "SELECT sequence, envelope FROM reports WHERE sequence > ? ORDER BY sequence LIMIT ?",
                    (self._meta("sent"), MERGE_GROUP),
                ).fetchall()
                if len(rows) < 2:
                    return merged
                last = rows[-1][0]
                envelope = merge(last, [e for _, e in rows])
                self._db.execute(
                    "DELETE FROM reports WHERE sequence > ? AND sequence <= ?", (rows[0][0] - 1, last)
                )
                self._db.execute("INSERT INTO reports VALUES (?, ?)", (last, envelope))
            before = sum(len(e) for _, e in rows)
            if len(envelope) >= before:  # nothing left to coarsen
                return merged
            self._bytes += len(envelope) - before
            merged += len(rows)
        return merged

    def remember(self, key: str, value: int) -> int | None:
        """Store `value` under `key` (agent bookkeeping); return what was stored before, if anything."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            self._set_meta(key, value)
            return int(row[0]) if row else None

    def last_sequence(self) -> int:
        """The sequence of the last report sealed (0 before the first)."""
        with self._lock:
            return self._meta("last_sequence")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- helpers (call with the lock held) ------------------------------------------------------------

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._db.execute("ROLLBACK" if kind else "COMMIT")
