"""PricingService: the published price schedule of a machine class (public to every signed-in role)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from collector.api import wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument
from collector.pricing.schedule import price_schedules
from protos.rentmeter.v1 import pricing_pb2, pricing_pb2_grpc

DEFAULT_HOURS = 24


class PricingService(Servicer, pricing_pb2_grpc.PricingServiceServicer):
    @maps_errors
    async def GetPriceSchedule(
        self, request: pricing_pb2.GetPriceScheduleRequest, context: Ctx
    ) -> pricing_pb2.PriceSchedules:
        if not request.machine_class:
            raise InvalidArgument("machine_class is required")
        hours, now = request.hours or DEFAULT_HOURS, self.now()

        def run(db: Session) -> pricing_pb2.PriceSchedules:
            found = price_schedules(db, request.machine_class, now, hours, request.plan)
            return pricing_pb2.PriceSchedules(schedules=[wire.schedule_to_proto(s) for s in found])

        return await self.db.run(run)
