"""Enrolled agents' public keys, cached for the report streams; a revoked machine's key is refused.

A revocation on this collector takes effect at once (the key is dropped from the cache and every later
report, on open streams too, is refused). Keys are looked up again after KEY_TTL, so a revocation made on
another collector sharing the database takes effect within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from collector.core.errors import Unauthenticated
from collector.db.database import Database
from collector.db.models import Machine

KEY_TTL_S = 5.0


@dataclass(frozen=True)
class KeyRing:
    """An agent's current key, and after a rotation the previous one with the last sequence it may sign."""

    current: Ed25519PublicKey
    previous: Ed25519PublicKey | None = None
    previous_until: int = 0

    def for_sequence(self, sequence: int) -> list[Ed25519PublicKey]:
        """The keys that may have signed report `sequence`, current first."""
        keys = [self.current]
        if self.previous is not None and sequence <= self.previous_until:
            keys.append(self.previous)
        return keys


class AgentKeys:
    def __init__(self, database: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = database
        self._clock = clock
        self._keys: dict[str, tuple[float, KeyRing]] = {}
        self._revoked: set[str] = set()

    async def key_of(self, agent_id: str) -> KeyRing:
        """The agent's keys; Unauthenticated when the agent is unknown or revoked."""
        if agent_id in self._revoked:
            raise Unauthenticated(f"machine {agent_id} was revoked")
        cached = self._keys.get(agent_id)
        if cached is not None and self._clock() - cached[0] < KEY_TTL_S:
            return cached[1]
        found = await self._db.run(_lookup, agent_id) if agent_id else None
        if found is None:
            raise Unauthenticated(f"agent {agent_id!r} is not enrolled")
        raw, revoked, previous, until = found
        if revoked:
            self.revoke(agent_id)
            raise Unauthenticated(f"machine {agent_id} was revoked")
        ring = KeyRing(
            Ed25519PublicKey.from_public_bytes(raw),
            Ed25519PublicKey.from_public_bytes(previous) if previous else None,
            until or 0,
        )
        self._keys[agent_id] = (self._clock(), ring)
        return ring

    def forget(self, agent_id: str) -> None:
        """Look the agent's keys up again on its next report (after a rotation)."""
        self._keys.pop(agent_id, None)

    def revoke(self, agent_id: str) -> None:
        self._revoked.add(agent_id)
        self._keys.pop(agent_id, None)


def _lookup(db: Session, agent_id: str) -> tuple[bytes, bool, bytes | None, int | None] | None:
    machine = db.get(Machine, agent_id)
    if machine is None:
        return None
    return (machine.public_key, machine.revoked_at is not None, machine.previous_public_key,
            machine.previous_key_until_sequence)  # fmt: skip
