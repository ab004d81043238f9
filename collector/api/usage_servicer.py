"""UsageService: usage of a machine or a session over a time range."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from collector.api import authorization, wire
from collector.api.ownership import own_machine, own_session
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.clock import to_us
from collector.core.errors import InvalidArgument
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
