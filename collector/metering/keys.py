"""Enrolled agents' public keys, cached for the report streams; a revoked machine's key is refused.

A revocation on this collector takes effect at once: the key is dropped from the cache and every open
stream of the machine is ended. On PostgreSQL it is also sent over the control bus (collector.db.bus), so
the other collectors do the same within milliseconds; without the bus, or when a collector's listening
connection was down, a revocation made on another collector takes effect here within REVOCATION_DELAY_S:
- keys are cached for at most KEY_TTL_S, so a new stream or report looks the machine up again by then;
- while streams are open, one task polls the database every POLL_S for revocations of their machines
  (one query for all of them) and ends the streams of those revoked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.core.errors import Unauthenticated, quoted
from collector.db.bus import ControlBus
from collector.db.database import Database
from collector.db.models import Machine

KEY_TTL_S = 2.0
POLL_S = 1.0
# What README promises: the longer of the two paths (a poll's query takes milliseconds).
REVOCATION_DELAY_S = 2.0
_POLL_CHUNK = 500

logger = logging.getLogger(__name__)

OnRevoked = Callable[[str], None]


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
    """Lives on the server's event loop."""

    def __init__(
        self, database: Database, clock: Callable[[], float] = time.monotonic, poll_s: float = POLL_S
    ) -> None:
        self._db = database
        self._clock = clock
        self._poll_s = poll_s
        self._keys: dict[str, tuple[float, KeyRing]] = {}
        self._revoked: set[str] = set()
        self._watchers: dict[str, set[OnRevoked]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._bus: ControlBus | None = None

    def share(self, bus: ControlBus) -> None:
        """Tell the other collectors of revocations and rotations made here, and hear theirs."""
        self._bus = bus
        bus.on("revoked", lambda message: self.revoke(message["agent"], tell_others=False))
        bus.on("rotated", lambda message: self.forget(message["agent"], tell_others=False))

    async def key_of(self, agent_id: str, *, fresh: bool = False) -> KeyRing:
        """The agent's keys (looked up again when `fresh`, e.g. before calling a signature forged: the key
        may have been rotated on another collector); Unauthenticated when the agent is unknown or revoked."""
        if agent_id in self._revoked:
            raise Unauthenticated(f"machine {agent_id} was revoked")
        cached = self._keys.get(agent_id)
        if not fresh and cached is not None and self._clock() - cached[0] < KEY_TTL_S:
            return cached[1]
        found = await self._db.run(_lookup, agent_id) if agent_id else None
        if found is None:
            raise Unauthenticated(f"agent {quoted(agent_id)} is not enrolled")
        raw, revoked, previous, until = found
        if revoked:
            self.revoke(agent_id, tell_others=False)
            raise Unauthenticated(f"machine {agent_id} was revoked")
        ring = KeyRing(
            Ed25519PublicKey.from_public_bytes(raw),
            Ed25519PublicKey.from_public_bytes(previous) if previous else None,
            until or 0,
        )
        self._keys[agent_id] = (self._clock(), ring)
        return ring

    def forget(self, agent_id: str, *, tell_others: bool = True) -> None:
        """Look the agent's keys up again on its next report (after a rotation), here and elsewhere."""
        self._keys.pop(agent_id, None)
        if tell_others and self._bus is not None:
            self._bus.post("rotated", agent=agent_id)

    def revoke(self, agent_id: str, *, tell_others: bool = True) -> None:
        """Refuse the agent from now on and tell its open streams (and the other collectors')."""
        if tell_others and self._bus is not None:
            self._bus.post("revoked", agent=agent_id)
        self._revoked.add(agent_id)
        self._keys.pop(agent_id, None)
        for on_revoked in list(self._watchers.get(agent_id, ())):
            on_revoked(agent_id)

    def watch(self, agent_id: str, on_revoked: OnRevoked) -> None:
        """Call `on_revoked(agent_id)` when the agent is revoked here or on another collector."""
        self._watchers.setdefault(agent_id, set()).add(on_revoked)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll(), name="revocation-poll")

    def unwatch(self, agent_id: str, on_revoked: OnRevoked) -> None:
        watchers = self._watchers.get(agent_id)
        if watchers is not None:
            watchers.discard(on_revoked)
            if not watchers:
                del self._watchers[agent_id]
        if not self._watchers and self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def _poll(self) -> None:
        while self._watchers:
            await asyncio.sleep(self._poll_s)
            watched = list(self._watchers)
            try:
                revoked = await self._db.run(_revoked_among, watched)
            except Exception:  # the database is away for a moment: try again next round
                logger.exception("checking %d streamed machines for revocation failed", len(watched))
                continue
            for agent_id in revoked:
                logger.info("machine %s was revoked elsewhere: ending its report streams", agent_id)
                self.revoke(agent_id, tell_others=False)


def _lookup(db: Session, agent_id: str) -> tuple[bytes, bool, bytes | None, int | None] | None:
    machine = db.get(Machine, agent_id)
    if machine is None:
        return None
    return (machine.public_key, machine.revoked_at is not None, machine.previous_public_key,
            machine.previous_key_until_sequence)  # fmt: skip


def _revoked_among(db: Session, agent_ids: list[str]) -> list[str]:
    revoked: list[str] = []
    for start in range(0, len(agent_ids), _POLL_CHUNK):
        chunk = agent_ids[start : start + _POLL_CHUNK]
        query = select(Machine.agent_id).where(Machine.agent_id.in_(chunk), Machine.revoked_at.is_not(None))
        revoked.extend(db.scalars(query))
    return revoked
