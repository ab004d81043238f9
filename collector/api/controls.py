"""Control messages to connected agents: each open report stream subscribes its agent's outbox."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from protos.rentmeter.v1 import agent_pb2

logger = logging.getLogger(__name__)

Outbox = asyncio.Queue[agent_pb2.CollectorMessage | None]


class ControlHub:
    """Routes Control messages to every open stream of an agent. Lives on the server's event loop."""

    def __init__(self) -> None:
        self._streams: dict[str, set[Outbox]] = defaultdict(set)

    def subscribe(self, agent_id: str, outbox: Outbox) -> None:
        self._streams[agent_id].add(outbox)

    def unsubscribe(self, agent_id: str, outbox: Outbox) -> None:
        streams = self._streams.get(agent_id)
        if streams is not None:
            streams.discard(outbox)
            if not streams:
                del self._streams[agent_id]

    def publish(self, agent_id: str, control: agent_pb2.Control) -> int:
        """Queue `control` on each open stream of `agent_id`; return how many received it."""
        streams = self._streams.get(agent_id, set())
        for outbox in streams:
            outbox.put_nowait(agent_pb2.CollectorMessage(controls=[control]))
        logger.info(
            "agent %s: %s sent to %d stream(s)",
            agent_id,
            agent_pb2.Control.Kind.Name(control.kind),
            len(streams),
        )
        return len(streams)
