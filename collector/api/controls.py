"""Control messages to connected agents: each open report stream subscribes its agent's outbox.

With several collectors on one PostgreSQL database an agent's stream may be open on any of them: a control
is delivered to this collector's streams at once and sent over the control bus (collector.db.bus,
LISTEN/NOTIFY) to the others, which deliver it to theirs within milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from collections import defaultdict

from collector.db.bus import ControlBus, Message
from protos.rentmeter.v1 import agent_pb2

logger = logging.getLogger(__name__)

Outbox = asyncio.Queue[agent_pb2.CollectorMessage | None]
# How long deliver() waits for the other collectors to say how many streams received a control.
REPLY_WAIT_S = 0.3


class ControlHub:
    """Routes Control messages to every open stream of an agent. Lives on the server's event loop."""

    def __init__(self, bus: ControlBus | None = None) -> None:
        self._streams: dict[str, set[Outbox]] = defaultdict(set)
        self._bus = bus
        self._replies: dict[str, list[int]] = {}
        if bus is not None:
            bus.on("control", self._from_bus)
            bus.on("delivered", self._reply)

    @property
    def stream_count(self) -> int:
        """Report streams open on this collector."""
        return sum(len(streams) for streams in self._streams.values())

    def subscribe(self, agent_id: str, outbox: Outbox) -> None:
        self._streams[agent_id].add(outbox)

    def unsubscribe(self, agent_id: str, outbox: Outbox) -> None:
        streams = self._streams.get(agent_id)
        if streams is not None:
            streams.discard(outbox)
            if not streams:
                del self._streams[agent_id]

    def outboxes(self) -> list[Outbox]:
        """Every open stream's outbox (for a shutdown that ends them)."""
        return [outbox for streams in self._streams.values() for outbox in streams]

    def publish(self, agent_id: str, control: agent_pb2.Control) -> int:
        """Queue `control` on each open stream of `agent_id`, here and (through the bus) on the other
        collectors; return how many streams of this collector received it."""
        if self._bus is not None:
            self._bus.post("control", agent=agent_id, control=_encode(control))
        return self._local(agent_id, control)

    async def deliver(self, agent_id: str, control: agent_pb2.Control) -> int:
        """Like publish(), and count the other collectors' streams too (those answering within
        REPLY_WAIT_S)."""
        here = self._local(agent_id, control)
        if self._bus is None:
            return here
        request = secrets.token_hex(8)
        self._replies[request] = []
        try:
            await self._bus.send("control", agent=agent_id, control=_encode(control), request=request)
            await asyncio.sleep(REPLY_WAIT_S)
            return here + sum(self._replies[request])
        finally:
            del self._replies[request]

    def _local(self, agent_id: str, control: agent_pb2.Control, *, relayed: bool = False) -> int:
        """Queue on this collector's streams; a control relayed from another collector to none is routine
        (the agent is connected elsewhere) and logged at debug level only."""
        streams = self._streams.get(agent_id, set())
        for outbox in streams:
            outbox.put_nowait(agent_pb2.CollectorMessage(controls=[control]))
        logger.log(
            logging.DEBUG if relayed and not streams else logging.INFO,
            "agent %s: %s sent to %d stream(s)%s",
            agent_id,
            agent_pb2.Control.Kind.Name(control.kind),
            len(streams),
            " (relayed from another collector)" if relayed else "",
        )
        return len(streams)

    def _from_bus(self, message: Message) -> None:
        control = agent_pb2.Control.FromString(base64.b64decode(message["control"]))
        delivered = self._local(message["agent"], control, relayed=True)
        if message.get("request") and delivered and self._bus is not None:
            self._bus.post("delivered", request=message["request"], count=delivered)

    def _reply(self, message: Message) -> None:
        counts = self._replies.get(message.get("request", ""))
        if counts is not None:
            counts.append(int(message["count"]))


def _encode(control: agent_pb2.Control) -> str:
    return base64.b64encode(control.SerializeToString()).decode()
