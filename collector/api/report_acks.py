"""The ack side of a report stream: acks in arrival order, as many per message as are ready."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from collector.api import wire
from collector.api.controls import Outbox
from collector.api.metrics import Metrics
from collector.metering.ingest import Ack, AckStatus


@dataclass(frozen=True)
class PendingAcks:
    """The acks to come for the reports of one stream message, in their order: those refused before
    storage (`refused`, by position) and the others from the writer (`stored`, in order), with the kinds
    of the gaps each stored report tells (counted once it is accepted)."""

    refused: dict[int, Ack]
    stored: asyncio.Future[list[Ack]]
    gaps: tuple[tuple[str, ...], ...] = ()
    received: float | None = None  # monotonic time the message was read (for the ack latency)

    async def acks(self) -> tuple[list[Ack], list[str]]:
        """Every report's ack in message order, and the gap kinds of the accepted ones."""
        stored = iter(await self.stored)
        gaps = iter(self.gaps)
        acks: list[Ack] = []
        accepted_gaps: list[str] = []
        for index in range(len(self.refused) + len(self.gaps)):
            if index in self.refused:
                acks.append(self.refused[index])
                continue
            ack, kinds = next(stored), next(gaps)
            acks.append(ack)
            if ack.status is AckStatus.ACCEPTED:
                accepted_gaps.extend(kinds)
        return acks, accepted_gaps


def count(metrics: Metrics, acks: list[Ack], gaps: list[str]) -> None:
    for ack in acks:
        metrics.reports.labels(ack.status.name.lower()).inc()
        if ack.kind:
            metrics.rejected.labels(ack.kind).inc()
    for kind in gaps:
        metrics.gaps.labels(kind).inc()


async def forward_acks(
    pending: asyncio.Queue[PendingAcks | None],
    outbox: Outbox,
    metrics: Metrics,
    remember: Callable[[list[Ack]], Awaitable[None]],
) -> None:
    """Send acks in arrival order, as many per message as are ready, then `remember` them; end the stream
    after the last."""
    try:
        while (item := await pending.get()) is not None:
            items = [item]
            while not pending.empty():
                ready = pending.get_nowait()
                if ready is None:
                    pending.put_nowait(None)
                    break
                items.append(ready)
            acks: list[Ack] = []
            gaps: list[str] = []
            for pending_acks in items:
                mine, kinds = await pending_acks.acks()
                acks += mine
                gaps += kinds
            count(metrics, acks, gaps)
            outbox.put_nowait(wire.acks_to_proto(acks))
            _observe_latency(metrics, items)
            await remember(acks)
    finally:
        outbox.put_nowait(None)


def _observe_latency(metrics: Metrics, items: list[PendingAcks]) -> None:
    """From reading each report off the stream to its ack going out, once per report."""
    sent = time.monotonic()
    for item in items:
        if item.received is not None:
            for _ in range(len(item.refused) + len(item.gaps)):
                metrics.ack_seconds.observe(sent - item.received)
