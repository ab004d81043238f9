"""UsageService: usage of a machine or a session over a time range, whole or in steps (for charts)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from collector.api import authorization, wire
from collector.api.ownership import own_machine, own_session
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.clock import to_us
from collector.core.errors import InvalidArgument
from collector.metering.series import default_step_us, usage_series
from collector.metering.usage import usage_summary
from protos.rentmeter.v1 import (
    usage_pb2,
    usage_pb2_grpc,
)


class UsageService(Servicer, usage_pb2_grpc.UsageServiceServicer):
    @maps_errors
    async def GetUsage(self, request: usage_pb2.GetUsageRequest, context: Ctx) -> usage_pb2.UsageSummary:
        now, who = self.now(), authorization.current()

        def run(db: Session) -> usage_pb2.UsageSummary:
            if request.WhichOneof("scope") == "session_id":
                rental = own_session(db, request.session_id, who)
                agent_id, start, end = rental.agent_id, rental.started_at, rental.ended_at or now
            elif request.WhichOneof("scope") == "agent_id":
                agent_id, start, end = (
                    own_machine(db, request.agent_id, who).agent_id,
                    now - timedelta(hours=1),
                    now,
                )
            else:
                raise InvalidArgument("give agent_id or session_id")
            if request.HasField("start"):
                start = wire.moment(request.start)
            if request.HasField("end"):
                end = wire.moment(request.end)
            if end <= start:
                raise InvalidArgument("end must be after start")
            return wire.usage_to_proto(usage_summary(db, agent_id, to_us(start), to_us(end)))

        return await self.db.run(run)

    @maps_errors
    async def GetUsageSeries(
        self, request: usage_pb2.GetUsageSeriesRequest, context: Ctx
    ) -> usage_pb2.UsageSeries:
        now, who = self.now(), authorization.current()
        step_us = _step_us(request)

        def run(db: Session) -> usage_pb2.UsageSeries:
            if request.WhichOneof("scope") == "session_id":
                rental = own_session(db, request.session_id, who)
                machine, start, end = rental.machine, rental.started_at, rental.ended_at or now
            elif request.WhichOneof("scope") == "agent_id":
                machine, start, end = own_machine(db, request.agent_id, who), now - timedelta(hours=1), now
            else:
                raise InvalidArgument("give agent_id or session_id")
            start_us = wire.us(request.start) if request.HasField("start") else to_us(start)
            end_us = wire.us(request.end) if request.HasField("end") else to_us(end)
            if end_us <= start_us:
                raise InvalidArgument("end must be after start")
            step = step_us or default_step_us(end_us - start_us)
            cores = int((machine.facts or {}).get("cpu_cores_logical", 0) or 0)
            points = usage_series(db, machine.agent_id, start_us, end_us, step, cores)
            return wire.usage_series_to_proto(machine.agent_id, start_us, end_us, step, points)

        return await self.db.run(run)


def _step_us(request: usage_pb2.GetUsageSeriesRequest) -> int:
    """The requested step in microseconds (0: the default); InvalidArgument when it is negative."""
    micros = request.step.seconds * 1_000_000 + request.step.nanos // 1000
    if micros < 0 or (micros == 0 and request.step.nanos):
        raise InvalidArgument("step must be at least 1 microsecond")
    return micros
