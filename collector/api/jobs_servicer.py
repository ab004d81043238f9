"""JobService: how this collector's scheduled jobs last ran, and the subjects any collector's jobs fail on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from collector.api import wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.job_board import JobBoard
from collector.db.database import Database
from collector.db.isolation import current_failures
from protos.rentmeter.v1 import jobs_pb2, jobs_pb2_grpc


class JobService(Servicer, jobs_pb2_grpc.JobServiceServicer):
    def __init__(self, database: Database, now: Callable[[], datetime], board: JobBoard) -> None:
        super().__init__(database, now)
        self._board = board

    @maps_errors
    async def GetJobStatus(self, request: jobs_pb2.GetJobStatusRequest, context: Ctx) -> jobs_pb2.JobStatus:
        def run(db: Session) -> jobs_pb2.JobStatus:
            failures = [wire.job_failure_to_proto(f) for f in current_failures(db)]
            return jobs_pb2.JobStatus(jobs=[wire.job_state_to_proto(s) for s in self._board.states()],
                                      failures=failures)  # fmt: skip

        return await self.db.run(run)
