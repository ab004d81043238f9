"""InsightsService: behaviour profiles, plan recommendations, offers and the provider's offer rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.accounts.renters import get_renter
from collector.api import authorization, insights_wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import NotFound
from collector.db.database import Database
from collector.db.models import Offer, PlanRecommendation, RenterProfile
from collector.insights.advising import AdviceRules, refresh_advice
from collector.insights.occupancy import fleet_profile
from collector.insights.offers import create_rule, delete_rule, list_offers, list_rules
from collector.insights.profiling import refresh_profiles
from protos.rentmeter.v1 import insights_pb2, insights_pb2_grpc


class InsightsService(Servicer, insights_pb2_grpc.InsightsServiceServicer):
    def __init__(
        self, database: Database, now: Callable[[], datetime], *, grace: timedelta, advice: AdviceRules
    ) -> None:
        """`grace` and `advice`: the settings of the profile and advice jobs (RefreshInsights runs them)."""
        super().__init__(database, now)
        self._grace, self._advice = grace, advice

    @maps_errors
    async def GetRenterProfile(
        self, request: insights_pb2.GetRenterProfileRequest, context: Ctx
    ) -> insights_pb2.RenterProfile:
        renter_id = authorization.current().renter_scope(request.renter)

        def run(db: Session) -> insights_pb2.RenterProfile:
            row = db.get(RenterProfile, renter_id)
            if row is None:
                raise NotFound("profile of renter", renter_id)
            return insights_wire.renter_profile_to_proto(row, get_renter(db, renter_id).time_zone)

        return await self.db.run(run)

    @maps_errors
    async def GetFleetProfile(
        self, request: insights_pb2.GetFleetProfileRequest, context: Ctx
    ) -> insights_pb2.FleetProfile:
        host, now = authorization.current().host_scope(request.host), self.now()
        views = await self.db.run(fleet_profile, now, host, request.machine_class)
        return insights_wire.fleet_profile_to_proto(views, now)

    @maps_errors
    async def GetRecommendation(
        self, request: insights_pb2.GetRecommendationRequest, context: Ctx
    ) -> insights_pb2.Recommendation:
        renter_id = authorization.current().renter_scope(request.renter)

        def run(db: Session) -> insights_pb2.Recommendation:
            row = db.get(PlanRecommendation, renter_id)
            if row is None:
                raise NotFound("recommendation for renter", renter_id)
            return insights_wire.recommendation_to_proto(row)

        return await self.db.run(run)

    @maps_errors
    async def ListOffers(
        self, request: insights_pb2.ListOffersRequest, context: Ctx
    ) -> insights_pb2.ListOffersResponse:
        who, now = authorization.current(), self.now()

        def run(db: Session) -> insights_pb2.ListOffersResponse:
            if who.is_admin and not request.renter:  # the provider: every renter's
                query = select(Offer).order_by(Offer.offered_at.desc(), Offer.id.desc())
                if not request.ended_too:
                    query = query.where(Offer.valid_until > now)
                offers = list(db.scalars(query))
            else:
                renter_id = who.renter_scope(request.renter)
                offers = list_offers(db, renter_id, now, ended_too=request.ended_too)
            return insights_pb2.ListOffersResponse(offers=[insights_wire.offer_to_proto(o) for o in offers])

        return await self.db.run(run)

    @maps_errors
    async def CreateOfferRule(self, request: insights_pb2.OfferRule, context: Ctx) -> insights_pb2.OfferRule:
        draft = insights_wire.offer_rule_from_proto(request)
        now = self.now()
        return await self.db.run(lambda db: insights_wire.offer_rule_to_proto(create_rule(db, draft, now)))

    @maps_errors
    async def ListOfferRules(
        self, request: insights_pb2.ListOfferRulesRequest, context: Ctx
    ) -> insights_pb2.ListOfferRulesResponse:
        rules = await self.db.run(lambda db: [insights_wire.offer_rule_to_proto(r) for r in list_rules(db)])
        return insights_pb2.ListOfferRulesResponse(rules=rules)

    @maps_errors
    async def DeleteOfferRule(
        self, request: insights_pb2.DeleteOfferRuleRequest, context: Ctx
    ) -> insights_pb2.DeleteOfferRuleResponse:
        await self.db.run(delete_rule, request.name)
        return insights_pb2.DeleteOfferRuleResponse()

    @maps_errors
    async def RefreshInsights(
        self, request: insights_pb2.RefreshInsightsRequest, context: Ctx
    ) -> insights_pb2.RefreshInsightsResponse:
        now = self.now()
        profiled = await refresh_profiles(self.db, now, self._grace)
        advised = await refresh_advice(self.db, now, self._advice)
        return insights_pb2.RefreshInsightsResponse(
            renters_profiled=profiled.processed,
            renters_advised=advised.processed,
            failed=len(profiled.failed) + len(advised.failed),
        )
