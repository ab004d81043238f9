"""Conversions of InsightsService: profiles, recommendations, offers and offer rules to and from protobuf
(the rest of the collector's conversions are in collector/api/wire.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from collector.api.wire import money, timestamp
from collector.db import models
from collector.insights.behaviour import RenterBehaviour, Utilisation
from collector.insights.occupancy import ClassView
from collector.insights.offers import RuleDraft
from collector.insights.weekly import LENGTH_LABELS
from protos.rentmeter.v1 import insights_pb2


def _seconds(us: int) -> float:
    return us / 1_000_000


def utilisation_to_proto(use: Utilisation, rented_us: int) -> insights_pb2.Utilisation:
    hours = rented_us / 3_600_000_000
    return insights_pb2.Utilisation(
        covered_seconds=_seconds(use.covered_us),
        idle_share=use.idle_share,
        cpu_share=use.cpu_share,
        gpu_share=use.gpu_share,
        rx_bytes=use.rx_bytes,
        tx_bytes=use.tx_bytes,
        bytes_per_hour=(use.rx_bytes + use.tx_bytes) / hours if hours else 0.0,
    )


def renter_profile_to_proto(row: models.RenterProfile, zone: str) -> insights_pb2.RenterProfile:
    profile = RenterBehaviour.from_data(row.data)
    top_ups = []
    for currency, habit in sorted(profile.top_ups.items()):
        lowest = habit.lowest_before_minor or 0
        top_ups.append(
            insights_pb2.TopUpHabit(
                count=habit.count,
                total=money(habit.total_minor, currency),
                average_balance_before=money(habit.balance_before_minor // max(habit.count, 1), currency),
                lowest_balance_before=money(lowest, currency),
                balance=money(profile.wallet.get(currency, 0), currency),
            )
        )
    return insights_pb2.RenterProfile(
        renter=row.renter_id,
        time_zone=zone or "UTC",
        folded_until=timestamp(row.folded_until),
        sessions=profile.sessions,
        rented_seconds=_seconds(profile.rented_us),
        night_seconds=_seconds(profile.night_us),
        hour_of_week_seconds=[_seconds(us) for us in profile.hours_us],
        session_lengths=[
            insights_pb2.LengthBucket(label=label, sessions=count)
            for label, count in zip(LENGTH_LABELS, profile.lengths, strict=True)
        ],
        classes=[
            insights_pb2.ClassUse(machine_class=name, rented_seconds=_seconds(us))
            for name, us in sorted(profile.classes.items())
        ],
        utilisation=utilisation_to_proto(profile.use, profile.rented_us),
        spend_per_week=[
            insights_pb2.WeekSpend(week=week, spent=money(minor, currency))
            for currency, weeks in sorted(profile.spend.items())
            for week, minor in sorted(weeks.items())
        ],
        top_ups=top_ups,
        first_session=timestamp(datetime.fromisoformat(profile.first_at)) if profile.first_at else None,
        last_session=timestamp(datetime.fromisoformat(profile.last_at)) if profile.last_at else None,
    )


def fleet_profile_to_proto(views: Sequence[ClassView], now: datetime) -> insights_pb2.FleetProfile:
    return insights_pb2.FleetProfile(
        classes=[
            insights_pb2.ClassProfile(
                machine_class=view.machine_class,
                machines=view.machines,
                idle_machines=view.idle_machines,
                sessions=view.occupancy.sessions,
                rented_seconds=_seconds(view.occupancy.rented_us),
                hour_of_week_seconds=[_seconds(us) for us in view.occupancy.hours_us],
                occupancy=view.occupancy_shares(now),
                revenue=[
                    money(minor, currency) for currency, minor in sorted(view.occupancy.revenue.items())
                ],
                utilisation=utilisation_to_proto(view.occupancy.use, view.occupancy.rented_us),
            )
            for view in views
        ]
    )


def recommendation_to_proto(row: models.PlanRecommendation) -> insights_pb2.Recommendation:
    currency = row.currency
    alternatives = [
        insights_pb2.Alternative(
            plan=str(c["plan"]),
            member_tier=str(c["member_tier"]),
            coupon=str(c["coupon"]),
            offer=str(c.get("offer", "")),
            error=str(c.get("error", "")),
            total=money(int(c["total_minor"]), currency) if "total_minor" in c else None,
        )
        for c in row.alternatives.get("candidates", [])
    ]
    return insights_pb2.Recommendation(
        renter=row.renter_id,
        computed_at=timestamp(row.computed_at),
        window_start=timestamp(row.window_start),
        window_end=timestamp(row.window_end),
        sessions=row.sessions,
        current=money(row.current_minor, currency),
        plan=row.plan,
        member_tier=row.member_tier,
        coupon=row.coupon,
        recommended=money(row.plan_minor, currency),
        saving=money(row.saving_minor, currency),
        evidence=row.evidence,
        alternatives=alternatives,
    )


def offer_to_proto(row: models.Offer) -> insights_pb2.Offer:
    return insights_pb2.Offer(
        id=row.id,
        renter=row.renter_id,
        rule=row.rule,
        plan=row.plan,
        member_tier=row.member_tier,
        coupon=row.coupon,
        reason=row.reason,
        offered_at=timestamp(row.offered_at),
        valid_from=timestamp(row.valid_from),
        valid_until=timestamp(row.valid_until),
    )


def offer_rule_to_proto(row: models.OfferRule) -> insights_pb2.OfferRule:
    return insights_pb2.OfferRule(
        name=row.name,
        condition=row.condition,
        threshold=row.threshold,
        window_days=row.window_days,
        plan=row.plan,
        member_tier=row.member_tier,
        coupon=row.coupon,
        valid_days=row.valid_days,
        created_at=timestamp(row.created_at),
    )


def offer_rule_from_proto(rule: insights_pb2.OfferRule) -> RuleDraft:
    return RuleDraft(
        name=rule.name,
        condition=rule.condition,
        threshold=rule.threshold,
        window_days=rule.window_days or 30,
        plan=rule.plan,
        member_tier=rule.member_tier,
        coupon=rule.coupon,
        valid_days=rule.valid_days or 30,
    )
