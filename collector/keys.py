"""Enrolled agents' public keys, cached for the report streams; a revoked machine's key is refused.

A revocation on this collector takes effect at once (the key is dropped from the cache and every later
report, on open streams too, is refused). Keys are looked up again after KEY_TTL, so a revocation made on
another collector sharing the database takes effect within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from collector.database import Database
from collector.db.models import Machine
from collector.errors import Unauthenticated

KEY_TTL_S = 5.0


class AgentKeys:
    def __init__(self, database: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = database
        self._clock = clock
        self._keys: dict[str, tuple[float, Ed25519PublicKey]] = {}
        self._revoked: set[str] = set()

    async def key_of(self, agent_id: str) -> Ed25519PublicKey:
        """The agent's key; Unauthenticated when the agent is unknown or revoked."""
        if agent_id in self._revoked:
            raise Unauthenticated(f"machine {agent_id} was revoked")
        cached = self._keys.get(agent_id)
        if cached is not None and self._clock() - cached[0] < KEY_TTL_S:
            return cached[1]
        found = await self._db.run(_lookup, agent_id) if agent_id else None
        if found is None:
            raise Unauthenticated(f"agent {agent_id!r} is not enrolled")
        raw, revoked = found
        if revoked:
            self.revoke(agent_id)
            raise Unauthenticated(f"machine {agent_id} was revoked")
        key = Ed25519PublicKey.from_public_bytes(raw)
        self._keys[agent_id] = (self._clock(), key)
        return key

    def revoke(self, agent_id: str) -> None:
        self._revoked.add(agent_id)
        self._keys.pop(agent_id, None)


def _lookup(db: Session, agent_id: str) -> tuple[bytes, bool] | None:
    machine = db.get(Machine, agent_id)
    return (machine.public_key, machine.revoked_at is not None) if machine else None
