"""Group commit: reports from every agent stream are stored together, one transaction per batch.

A stream submits a verified report and awaits its Ack; the Ack resolves only after the transaction that
stored the report has committed, so an acknowledgement always means "durably stored".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from collector.core.clock import utcnow
from collector.db.database import Database
from collector.metering.ingest import Ack, IncomingReport, store_reports

logger = logging.getLogger(__name__)

_Item = tuple[IncomingReport, asyncio.Future[Ack]]


class ReportWriter:
    def __init__(
        self, database: Database, *, max_batch: int = 1000, now: Callable[[], datetime] = utcnow
    ) -> None:
        self._database = database
        self._max_batch = max_batch
        self._now = now
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="report-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    @property
    def backlog(self) -> int:
        """Reports received and verified, waiting to be stored."""
        return self._queue.qsize()

    def submit(self, report: IncomingReport) -> asyncio.Future[Ack]:
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((report, future))
        return future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._store(batch)

    async def _store(self, batch: list[_Item]) -> None:
        reports = [report for report, _ in batch]
        try:
            acks = await self._database.run(store_reports, reports, self._now())
        except Exception as exc:  # the batch is not stored: every stream learns it and the agents resend
            logger.exception("storing %d reports failed", len(reports))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), ack in zip(batch, acks, strict=True):
            if not future.done():
                future.set_result(ack)
