"""The durable outbox (SQLite, WAL): every sample is on disk the moment it is taken, every signed report
until the collector acknowledges it.

- Samples wait in `samples` until they are sealed into a report; sealing allocates the next sequence
  number, stores the signed report and removes its samples in one transaction, synced to disk before the
  report can be sent (synchronous=FULL for that transaction), so sequence numbers survive restarts and
  power cuts and never repeat, and a kill -9 loses at most the interval being sampled.
- Should a disk lose the end of the log anyway, the collector's last stored sequence (told when a stream
  opens) raises the floor for new numbers, and a report the collector holds another report under is
  numbered again (`renumber`).
- A report whose copy no longer verifies or decodes is moved to `quarantine` (kept with the reason) and a
  gap is recorded; gaps travel, signed, in the next sealed report.
- The spool is bounded (`max_bytes`). When it is full, the oldest reports that were never handed to a
  stream are merged into coarser ones by a callback that re-signs them; totals are kept, nothing is dropped.
  Reports already handed to a stream (`sent` mark, persisted) are never merged: the collector may have
  stored them, and their resend must stay an exact duplicate.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.errors import AgentError
from agent.limits import MAX_GAPS_PER_REPORT

logger = logging.getLogger(__name__)

SPOOL_FILE = "spool.db"
DAMAGED_SUFFIX = ".damaged-"  # spool.db.damaged-20261202T101500Z: a spool moved aside
# SQLite's result codes for a file that is not a database or is corrupt (not: locked, busy, no access).
_DAMAGE_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
# About 500 bytes a report at the defaults (5 one-second samples): 100 MiB hold about 24 days.
DEFAULT_MAX_BYTES = 100 * 2**20
MERGE_GROUP = 720  # reports merged at a time: one hour of 5-second reports
QUARANTINE_KEEP = 100  # quarantined copies kept for inspection (the oldest go first)


@dataclass(frozen=True, slots=True)
class Gap:
    """A hole in this agent's reporting, told to the collector in a later report.

    kind: "forged" (the collector found the copy's signature broken), "unreadable" (the copy did not
    decode) or "spool_lost" (the spool file could not be opened). Times in µs since the epoch, when known.
    """

    kind: str
    sequence: int | None
    start_us: int | None
    end_us: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Quarantined:
    sequence: int
    kind: str
    reason: str
    at_us: int
    size: int


class SpoolDamaged(AgentError):
    """The spool file fails SQLite's integrity check."""


# build(sequence, samples, gaps) -> signed report envelope; merge(sequence, envelopes) -> one envelope;
# rebuild(new sequence, envelope) -> the envelope under the new sequence, signed again
BuildReport = Callable[[int, list[bytes], list[Gap]], bytes]
MergeReports = Callable[[int, list[bytes]], bytes]
Renumber = Callable[[int, bytes], bytes]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reports (sequence INTEGER PRIMARY KEY, envelope BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS quarantine (sequence INTEGER PRIMARY KEY, envelope BLOB NOT NULL,"
    " kind TEXT NOT NULL, reason TEXT NOT NULL, at_us INTEGER NOT NULL)",
    # reported_in: the sequence of the report that carries the gap (NULL: not yet sealed into one)
    "CREATE TABLE IF NOT EXISTS gaps (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, sequence INTEGER,"
    " start_us INTEGER, end_us INTEGER, reason TEXT NOT NULL, reported_in INTEGER)",
)


class Spool:
    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, check: bool = False) -> None:
        """Open (or create) the spool at `path`; with `check`, run SQLite's quick_check first (SpoolDamaged
        or sqlite3.DatabaseError when the file is damaged)."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            if check:
                verdict = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
                if verdict != ["ok"]:
                    raise SpoolDamaged(f"spool {path} is damaged: {'; '.join(map(str, verdict))}")
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed transaction survives a crash of the agent (kill -9); only a power
            # cut may lose the last ones. One fsync per checkpoint instead of one per sample; sealing,
            # which allocates a sequence number, syncs its own transaction (see _transaction(durable)).
            self._db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._bytes = self._db.execute(
                "SELECT coalesce(sum(length(envelope)), 0) FROM reports"
            ).fetchone()[0]
        except BaseException:
            self._db.close()
            raise

    # --- samples ----------------------------------------------------------------------------------

    def add_sample(self, data: bytes) -> None:
        with self._lock:
            self._db.execute("INSERT INTO samples (data) VALUES (?)", (data,))

    def sample_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM samples").fetchone()[0])

    def seal(self, build: BuildReport) -> int | None:
        """Turn every waiting sample, with the gaps not yet told, into one signed report; return its
        sequence (None: no samples)."""
        with self._lock, self._transaction(durable=True):
            rows = self._db.execute("SELECT id, data FROM samples ORDER BY id").fetchall()
            if not rows:
                return None
            sequence = self._meta("last_sequence") + 1
            gaps = self._db.execute(
                "SELECT id, kind, sequence, start_us, end_us, reason FROM gaps WHERE reported_in IS NULL"
                " ORDER BY id LIMIT ?",
                (MAX_GAPS_PER_REPORT,),
            ).fetchall()
            envelope = build(sequence, [data for _, data in rows], [Gap(*gap[1:]) for gap in gaps])
            self._db.execute("INSERT INTO reports VALUES (?, ?)", (sequence, envelope))
            self._db.execute("DELETE FROM samples WHERE id <= ?", (rows[-1][0],))
            self._db.executemany(
                "UPDATE gaps SET reported_in = ? WHERE id = ?", [(sequence, g[0]) for g in gaps]
            )
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

    def renumber(self, sequence: int, rebuild: Renumber) -> int | None:
        """Give report `sequence` the next free sequence, signed again by `rebuild`; return the new sequence
        (None: no such report)."""
        with self._lock, self._transaction(durable=True):
            row = self._db.execute("SELECT envelope FROM reports WHERE sequence = ?", (sequence,)).fetchone()
            if row is None:
                return None
            new = self._meta("last_sequence") + 1
            envelope = rebuild(new, row[0])
            self._db.execute("DELETE FROM reports WHERE sequence = ?", (sequence,))
            self._db.execute("INSERT INTO reports VALUES (?, ?)", (new, envelope))
            self._db.execute("UPDATE gaps SET reported_in = ? WHERE reported_in = ?", (new, sequence))
            self._set_meta("last_sequence", new)
        self._bytes += len(envelope) - len(row[0])
        return new

    def raise_floor(self, sequence: int) -> bool:
        """Never number a report at or below `sequence` (the collector's last stored); True if it moved."""
        with self._lock, self._transaction(durable=True):
            if self._meta("last_sequence") >= sequence:
                return False
            self._set_meta("last_sequence", sequence)
            return True

    def quarantine(self, sequence: int, gap: Gap, at_us: int) -> bool:
        """Move report `sequence` aside (kept with `gap`'s reason), record `gap` for the collector and put
        the gaps that report carried back in line; False if there is no such report."""
        with self._lock, self._transaction():
            row = self._db.execute("SELECT envelope FROM reports WHERE sequence = ?", (sequence,)).fetchone()
            if row is None:
                return False
            self._db.execute("DELETE FROM reports WHERE sequence = ?", (sequence,))
            self._db.execute(
                "INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?)",
                (sequence, row[0], gap.kind, gap.reason, at_us),
            )
            self._db.execute("UPDATE gaps SET reported_in = NULL WHERE reported_in = ?", (sequence,))
            self._insert_gap(gap)
            self._db.execute(
                "DELETE FROM quarantine WHERE sequence NOT IN"
                " (SELECT sequence FROM quarantine ORDER BY at_us DESC, sequence DESC LIMIT ?)",
                (QUARANTINE_KEEP,),
            )
        self._bytes -= len(row[0])
        return True

    def add_gap(self, gap: Gap) -> None:
        """Record a gap (e.g. a spool lost) to be told in the next report."""
        with self._lock, self._transaction():
            self._insert_gap(gap)

    def quarantined(self) -> list[Quarantined]:
        with self._lock:
            rows = self._db.execute(
                "SELECT sequence, kind, reason, at_us, length(envelope) FROM quarantine ORDER BY sequence"
            )
            return [Quarantined(*row) for row in rows]

    def unreported_gaps(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM gaps WHERE reported_in IS NULL").fetchone()[0])

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
                first, last = rows[0][0], rows[-1][0]
                envelope = merge(last, [e for _, e in rows])
                self._db.execute("DELETE FROM reports WHERE sequence >= ? AND sequence <= ?", (first, last))
                self._db.execute("INSERT INTO reports VALUES (?, ?)", (last, envelope))
                self._db.execute(
                    "UPDATE gaps SET reported_in = ? WHERE reported_in >= ? AND reported_in <= ?",
                    (last, first, last),
                )
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

    def _insert_gap(self, gap: Gap) -> None:
        self._db.execute(
            "INSERT INTO gaps (kind, sequence, start_us, end_us, reason) VALUES (?, ?, ?, ?, ?)",
            (gap.kind, gap.sequence, gap.start_us, gap.end_us, gap.reason),
        )

    @contextmanager
    def _transaction(self, *, durable: bool = False) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception; `durable`: synced to disk at COMMIT."""
        if durable:
            self._db.execute("PRAGMA synchronous=FULL")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        finally:
            if durable:
                self._db.execute("PRAGMA synchronous=NORMAL")


def open_spool(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, now_us: Callable[[], int]) -> Spool:
    """The spool at `path`. One that SQLite finds damaged is moved aside (kept for inspection, with its
    -wal and -shm files, as spool.db.damaged-<UTC time>), logged, and replaced by a new spool that records
    a gap for the collector; sequence numbers then continue above the collector's last stored one.
    A spool that cannot be opened for another reason (locked, no access) raises sqlite3.Error."""
    try:
        return Spool(path, max_bytes=max_bytes, check=True)
    except (SpoolDamaged, sqlite3.DatabaseError) as exc:
        if not isinstance(exc, SpoolDamaged) and (exc.sqlite_errorcode & 0xFF) not in _DAMAGE_CODES:
            raise
        problem = str(exc)
    now = now_us()
    moved = move_aside(path, now)
    logger.error("the spool %s cannot be read (%s): moved aside as %s; starting a new spool", path, problem,
                 moved.name)  # fmt: skip
    spool = Spool(path, max_bytes=max_bytes)
    reason = f"the spool could not be read ({problem}); moved aside as {moved.name}"
    spool.add_gap(Gap("spool_lost", None, None, now, reason[:200]))
    return spool


def move_aside(path: Path, now_us: int) -> Path:
    """Rename the spool at `path` (and its -wal and -shm) to path.damaged-<UTC time>; return the new path."""
    stamp = datetime.fromtimestamp(now_us / 1e6, UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            os.replace(source, target.with_name(target.name + suffix))
    return target
