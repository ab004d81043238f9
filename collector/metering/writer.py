"""Group commit: reports from every agent stream are stored together, one transaction per batch.

A stream submits the verified reports of one message and awaits their Acks; the Acks resolve only after
the transaction that stored the reports has committed, so an acknowledgement always means "durably
stored". While one batch is being stored the next one gathers, from every stream: the more load, the
bigger the batches and the fewer the commits. The hot path uses SQLAlchemy Core without an ORM session.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime

from collector.core.clock import utcnow
from collector.db.database import Database
from collector.metering.ingest import Ack, IncomingReport, store_reports

logger = logging.getLogger(__name__)

_Item = tuple[Sequence[IncomingReport], asyncio.Future[list[Ack]], object | None]


class ReportWriter:
    def __init__(
        self, database: Database, *, max_batch: int = 2000, now: Callable[[], datetime] = utcnow
    ) -> None:
        """`max_batch`: reports per transaction at most (a submission is never split)."""
        self._database = database
        self._max_batch = max_batch
        self._now = now
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # Origins (streams) whose batch failed: their later submissions are refused, never stored, so that
        # no report is stored after an earlier one of the same stream was not (the agent resends them all,
        # in order, on a new stream).
        self._failed: weakref.WeakKeyDictionary[object, BaseException] = weakref.WeakKeyDictionary()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="report-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def submit(
        self, reports: Sequence[IncomingReport], origin: object | None = None
    ) -> asyncio.Future[list[Ack]]:
        """Store `reports` (one stream's, in order) with the next batch; the future gives their Acks in
        the same order once committed, or the storage error. After a failed batch, the later submissions of
        its `origin` (a stream object, weakly referenced) fail with the same error without being stored."""
        future: asyncio.Future[list[Ack]] = asyncio.get_running_loop().create_future()
        if not reports:
            future.set_result([])
        else:
            self._queue.put_nowait((reports, future, origin))
        return future

    @property
    def waiting(self) -> int:
        """Submissions waiting for the next batch (a gauge of ingest back-pressure)."""
        return self._queue.qsize()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0][0])
            while size < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                batch.append(item)
                size += len(item[0])
            await self._store(batch)

    async def _store(self, batch: list[_Item]) -> None:
        batch = [item for item in batch if not self._refused_after_failure(item)]
        reports = [report for submitted, _, _ in batch for report in submitted]
        if not reports:
            return
        try:
            acks = await self._database.run_core(store_reports, reports, self._now())
        except Exception as exc:  # the batch is not stored: every stream learns it and the agents resend
            logger.exception("storing %d reports failed", len(reports))
            for _, future, origin in batch:
                if origin is not None:
                    self._failed[origin] = exc
                if not future.done():
                    future.set_exception(exc)
            return
        at = 0
        for submitted, future, _ in batch:
            if not future.done():
                future.set_result(acks[at : at + len(submitted)])
            at += len(submitted)

    def _refused_after_failure(self, item: _Item) -> bool:
        _, future, origin = item
        failure = self._failed.get(origin) if origin is not None else None
        if failure is not None and not future.done():
            future.set_exception(failure)
        return failure is not None
