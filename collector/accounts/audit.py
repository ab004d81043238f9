"""The append-only, hash-chained audit log of admin actions and money movements.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical content (time, actor,
action, details as sorted JSON); the first entry chains from 64 zeros. A one-row head holds the last hash
and is locked by every append, so entries follow one another strictly even with several collectors.
verify() walks the chain: an edited, deleted or reordered entry breaks it at that entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collector.db.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def entry_hash(previous: str, at: datetime, actor: str, action: str, details: str) -> str:
    content = json.dumps([previous, at.isoformat(), actor, action, details], separators=(",", ":"))
    return hashlib.sha256(content.encode()).hexdigest()


def record(db: Session, actor: str, action: str, details: dict[str, Any], now: datetime) -> AuditEntry:
    """Append an entry in the caller's transaction (it commits or rolls back with what it records)."""
    head = db.get(AuditHead, 1, with_for_update=True)
    if head is None:  # made by migration 0015; a database that lost it gets it back without a race
        _insert_head_if_missing(db)
        head = db.get_one(AuditHead, 1, with_for_update=True, populate_existing=True)
    text = json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)
    digest = entry_hash(head.last_hash, now, actor, action, text)
    entry = AuditEntry(at=now, actor=actor[:120], action=action[:80], details=text,
                       previous_hash=head.last_hash, hash=digest)  # fmt: skip
    db.add(entry)
    db.flush()
    head.last_id, head.last_hash = entry.id, digest
    return entry


def _insert_head_if_missing(db: Session) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: concurrent first appends make one head row and none fails."""
    values = {"id": 1, "last_id": 0, "last_hash": GENESIS}
    if db.get_bind().dialect.name == "postgresql":
        db.execute(postgresql.insert(AuditHead).values(values).on_conflict_do_nothing())
    else:
        db.execute(sqlite.insert(AuditHead).values(values).on_conflict_do_nothing())


def list_entries(
    db: Session, *, before_id: int = 0, limit: int = 100, actor: str = "", action: str = ""
) -> list[AuditEntry]:
    """Entries newest first: `limit` of them with ids below `before_id` (0: from the newest), only those
    whose actor and action start with the given prefixes ("": any)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    if actor:
        query = query.where(AuditEntry.actor.startswith(actor, autoescape=True))
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    return list(db.scalars(query))


@dataclass(frozen=True)
class Verification:
    entries: int
    broken_at: int | None  # id of the first entry that does not chain, or None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(db: Session) -> Verification:
    """Recompute the chain from the first entry; say where it breaks, if it does."""
    previous, count, last_id = GENESIS, 0, 0
    for entry in db.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        count += 1
        if entry.previous_hash != previous:
            return Verification(
                count, entry.id, "does not follow the entry before it (one was removed or reordered)"
            )
        if entry_hash(previous, entry.at, entry.actor, entry.action, entry.details) != entry.hash:
            return Verification(count, entry.id, "its content does not match its hash (it was edited)")
        previous, last_id = entry.hash, entry.id
    head = db.get(AuditHead, 1)
    if head is not None and (head.last_id, head.last_hash) != (last_id, previous):
        return Verification(
            count, last_id or None, "the log ends before its recorded head (entries were removed)"
        )
    return Verification(count, None)


def actor(role: str, subject: str = "", account: str = "") -> str:
    """How the audit log names a caller: `admin`, `host:h1`, `renter:alice` for an API token; for a signed-in
    account `account:NAME (ROLE)`."""
    if account:
        return f"account:{account} ({role})"
    return role + (f":{subject}" if subject else "")
