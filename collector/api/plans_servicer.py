"""PlanService: price plans, their versions, and quotes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

import billing
from collector.api import wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import FailedPrecondition, InvalidArgument
from collector.db.models import PricePlan
from collector.sessions.plans import (
    add_version,
    check_document,
    create_plan,
    get_plan,
    list_plans,
    versions_of,
)
from collector.sessions.price_locks import quote_terms
from protos.rentmeter.v1 import (
    plans_pb2,
    plans_pb2_grpc,
)

MAX_QUOTE = timedelta(days=366)
# A quote starts between these instants (before 1970 no plan is in force; past 2200 is no plan's business).
QUOTE_FROM, QUOTE_UNTIL = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
# The most a quote takes as the expected load of one machine, far beyond any machine: traffic each way
# (an 800 Gbit/s link for the longest quote moves 3 x 10^18 bytes), busy cores, memory, GPUs of one model
# and GPU models.
MAX_QUOTE_BYTES = 10**19
MAX_QUOTE_CORES = 100_000
MAX_QUOTE_MEMORY = 10**15
MAX_QUOTE_GPUS = 1_000
MAX_QUOTE_GPU_MODELS = 16


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
        """Price a planned rental: the same rating as a real session whose machine reports all along.
        With `document`, under that plan (not stored; a preview), from its effective_from when that is
        later than now and no start is given."""
        preview = check_document(_document(request.document)) if request.document else None
        start = _quote_start(request) if request.HasField("start") else self.now()
        if preview is not None and not request.HasField("start"):
            start = max(start, preview.effective_from)
        duration = _quote_duration(request)
        expected = _expected_load(request)
        terms = wire.terms_from_proto(request.terms, request.machine_class)
        if not terms.machine_class:
            raise InvalidArgument("machine_class is required")

        def run(db: Session) -> plans_pb2.PriceQuote:
            plan: PricePlan | billing.PricePlan
            priced = terms
            if preview is not None:
                plan, versions = preview, [preview]
            else:
                plan = get_plan(db, request.plan)
                versions = versions_of(plan)
                priced = quote_terms(db, plan.id, versions, terms, start)  # a published demand price
            try:
                charges = billing.quote(versions, priced, start, start + duration, **expected)
            except billing.AmountOutOfRange as exc:
                raise InvalidArgument(f"the quote leaves the money range: {exc}") from None
            except billing.BillingError as exc:
                raise FailedPrecondition(str(exc)) from None
            lines = billing.build_lines("", charges)
            return wire.quote_to_proto(plan, terms.machine_class, start, start + duration, lines)

        return await self.db.run(run)

    @maps_errors
    async def GetPlan(self, request: plans_pb2.GetPlanRequest, context: Ctx) -> plans_pb2.PricePlan:
        return await self.db.run(lambda db: wire.plan_to_proto(get_plan(db, request.name)))


def _quote_start(request: plans_pb2.QuoteRequest) -> datetime:
    seconds, nanos = request.start.seconds, request.start.nanos
    lowest, highest = int(QUOTE_FROM.timestamp()), int(QUOTE_UNTIL.timestamp())
    if not (lowest <= seconds < highest and 0 <= nanos < 10**9):
        raise InvalidArgument(f"start must be a time from {QUOTE_FROM.date()} to {QUOTE_UNTIL.date()}")
    return wire.moment(request.start)


def _quote_duration(request: plans_pb2.QuoteRequest) -> timedelta:
    """The quoted span, checked as integers before any timedelta is built (a huge one would overflow)."""
    micros = (request.duration.seconds * 10**9 + request.duration.nanos) // 1000
    if not 0 < micros <= MAX_QUOTE // timedelta(microseconds=1):
        raise InvalidArgument(f"duration must be positive and at most {MAX_QUOTE.days} days")
    return timedelta(microseconds=micros)


def _expected_load(request: plans_pb2.QuoteRequest) -> dict[str, Any]:
    """billing.quote's expected usage from the request, each within what one machine could do."""
    for name, value, most in (
        ("expected_rx_bytes", request.expected_rx_bytes, MAX_QUOTE_BYTES),
        ("expected_tx_bytes", request.expected_tx_bytes, MAX_QUOTE_BYTES),
        ("expected_busy_cores", request.expected_busy_cores, MAX_QUOTE_CORES),
        ("expected_memory_bytes", request.expected_memory_bytes, MAX_QUOTE_MEMORY),
    ):
        if value > most:
            raise InvalidArgument(f"{name}: {value} is more than {most:,}, the most a quote takes")
    if len(request.gpus) > MAX_QUOTE_GPU_MODELS:
        raise InvalidArgument(f"gpus: at most {MAX_QUOTE_GPU_MODELS} GPU models")
    for model, count in request.gpus.items():
        if not model.strip() or len(model) > 100 or count > MAX_QUOTE_GPUS:
            raise InvalidArgument(
                f"gpus: a GPU model has a name of 1 to 100 characters and at most {MAX_QUOTE_GPUS} GPUs"
            )
    return {
        "rx_bytes": request.expected_rx_bytes,
        "tx_bytes": request.expected_tx_bytes,
        "busy_cores": request.expected_busy_cores,
        "memory_bytes": request.expected_memory_bytes,
        "gpus": dict(request.gpus),
    }
