"""PlanService: price plans, their versions, and quotes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

import billing
from collector.api import wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import FailedPrecondition, InvalidArgument
from collector.sessions.plans import add_version, create_plan, get_plan, list_plans, versions_of
from protos.rentmeter.v1 import (
    plans_pb2,
    plans_pb2_grpc,
)

MAX_QUOTE = timedelta(days=366)


# Plan documents are small; this bounds what one request can make the collector parse.
MAX_PLAN_DOCUMENT = 256 * 1024


def _document(text: str) -> str:
    if not text.strip():
        raise InvalidArgument("document is required: a price plan in TOML (see README, Price plan files)")
    if len(text.encode()) > MAX_PLAN_DOCUMENT:
        raise InvalidArgument(f"document is larger than {MAX_PLAN_DOCUMENT // 1024} KiB")
    return text


class PlanService(Servicer, plans_pb2_grpc.PlanServiceServicer):
    @maps_errors
    async def CreatePlan(self, request: plans_pb2.CreatePlanRequest, context: Ctx) -> plans_pb2.PricePlan:
        document = _document(request.document)
        return await self.db.run(lambda db: wire.plan_to_proto(create_plan(db, document, self.now())))

    @maps_errors
    async def AddPlanVersion(
        self, request: plans_pb2.AddPlanVersionRequest, context: Ctx
    ) -> plans_pb2.PricePlan:
        document = _document(request.document)
        return await self.db.run(
            lambda db: wire.plan_to_proto(add_version(db, request.name, document, self.now()))
        )

    @maps_errors
    async def ListPlans(
        self, request: plans_pb2.ListPlansRequest, context: Ctx
    ) -> plans_pb2.ListPlansResponse:
        return await self.db.run(
            lambda db: plans_pb2.ListPlansResponse(plans=[wire.plan_to_proto(p) for p in list_plans(db)])
        )

    @maps_errors
    async def Quote(self, request: plans_pb2.QuoteRequest, context: Ctx) -> plans_pb2.PriceQuote:
        """Price a planned rental: the same rating as a real session whose machine reports all along."""
        start = wire.moment(request.start) if request.HasField("start") else self.now()
        duration = request.duration.ToTimedelta()
        if not timedelta(0) < duration <= MAX_QUOTE:
            raise InvalidArgument(f"duration must be positive and at most {MAX_QUOTE.days} days")
        terms = wire.terms_from_proto(request.terms, request.machine_class)
        if not terms.machine_class:
            raise InvalidArgument("machine_class is required")

        def run(db: Session) -> plans_pb2.PriceQuote:
            plan = get_plan(db, request.plan)
            try:
                charges = billing.quote(
                    versions_of(plan), terms, start, start + duration,
                    rx_bytes=request.expected_rx_bytes, tx_bytes=request.expected_tx_bytes,
                    busy_cores=request.expected_busy_cores, memory_bytes=request.expected_memory_bytes,
                    gpus=dict(request.gpus),
                )  # fmt: skip
            except billing.BillingError as exc:
                raise FailedPrecondition(str(exc)) from None
            lines = billing.build_lines("", charges)
            return wire.quote_to_proto(plan, terms.machine_class, start, start + duration, lines)

        return await self.db.run(run)

    @maps_errors
    async def GetPlan(self, request: plans_pb2.GetPlanRequest, context: Ctx) -> plans_pb2.PricePlan:
        return await self.db.run(lambda db: wire.plan_to_proto(get_plan(db, request.name)))
