"""Plan recommendations and offers: usage re-rated under every plan with the real engine, the saving to
the cent against totals computed by hand, never a costlier plan, one notification per recommendation;
offers from the provider's rules, shown before they apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

import billing
from collector.accounts.renters import update_renter
from collector.core.errors import InvalidArgument
from collector.db.database import Database
from collector.db.models import Notification, PlanRecommendation
from collector.insights.advising import AdviceRules, advise_renters, renters_to_advise
from collector.insights.offers import RuleDraft, applying_offer, create_rule, list_offers
from collector.sessions.plans import create_plan
from tests.collector.insights_helpers import machine_of, rent

# Monday 23 November 2026, 23:00 in Shanghai (UTC+8).
MONDAY_23 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NOW = MONDAY_23 + timedelta(days=3)
NIGHT = """name = "night"
currency = "EUR"
timezone = "Asia/Shanghai"
[[windows]]
name = "night"
from = "23:00"
to = "07:00"
[[prices]]
meter = "time"
class = "standard"
price = "9.00"
[[prices]]
meter = "time"
class = "standard"
window = "night"
price = "3.00"
[coupons.NIGHT10]
percent = "10"
"""
DAY = """name = "day"
currency = "EUR"
[time.hourly]
standard = "6.00"
[member_discounts]
silver = "5"
"""
GPU_ONLY = """name = "gpu-only"
currency = "EUR"
[time.hourly]
gpu = "1.00"
"""


@pytest.fixture
def world(database: Database) -> Database:
    """alice (Shanghai) rented under plan day: Monday 23:00-01:00 and Tuesday 23:30-00:30 local (night),
    Wednesday 14:00-14:40 local; bob (UTC) Wednesday 10:00-11:00. Plans: day 6.00/h; night 9.00/h and
    3.00/h from 23:00 to 07:00; pricey 12.00/h; gpu-only (no price for class standard); yen (JPY)."""
    machine = machine_of(database, MONDAY_23 - timedelta(days=1))
    for document in (DAY, NIGHT, GPU_ONLY):
        database.call(create_plan, document, MONDAY_23 - timedelta(days=1))
    for name, currency, price in (("pricey", "EUR", "12.00"), ("yen", "JPY", "100")):
        database.call(create_plan, billing.simple_document(name, currency, {"standard": price}), MONDAY_23)
    database.call(update_renter, "alice", MONDAY_23, time_zone="Asia/Shanghai", email="alice@example.org")
    sequence = 1
    for start, minutes, renter in (
        (MONDAY_23, 120, "alice"),
        (MONDAY_23 + timedelta(days=1, minutes=30), 60, "alice"),
        (MONDAY_23 + timedelta(days=1, hours=15), 40, "alice"),  # Wednesday 14:00 local
        (MONDAY_23 + timedelta(days=1, hours=19), 60, "bob"),  # Wednesday 10:00 UTC
    ):
        _, sequence = rent(database, machine, renter, "day", start, minutes, sequence=sequence)
    return database


DEFAULTS = AdviceRules()


def advise(database: Database, rules: AdviceRules = DEFAULTS, now: datetime = NOW) -> None:
    renters = database.call(renters_to_advise, now, rules)
    outcome = database.call(advise_renters, now, rules, renters)
    assert outcome.failed == []


def recommendation(database: Database, renter: str) -> PlanRecommendation:
    row = database.call(lambda db: db.get(PlanRecommendation, renter))
    assert row is not None
    return row


def test_the_saving_is_the_difference_of_the_plans_totals_to_the_cent(world: Database) -> None:
    advise(world)
    alice = recommendation(world, "alice")
    # By hand: under day, 2 h + 1 h + 40 min at 6.00 = 12.00 + 6.00 + 4.00; under night, the first two
    # at 3.00/h (6.00 + 3.00) and 40 min at 9.00/h (6.00).
    assert (alice.current_minor, alice.plan, alice.plan_minor, alice.saving_minor) == (
        2200,
        "night",
        1500,
        700,
    )
    assert alice.evidence == (
        "plan night would have cost 7.00 EUR less over the last 30 days: "
        "3 sessions, 2 of them mostly 23:00-07:00"
    )
    totals = {c["plan"]: c.get("total_minor", c.get("error")) for c in alice.alternatives["candidates"]}
    assert totals["day"] == 2200 and totals["pricey"] == 4400 and "yen" not in totals
    assert "no rental-time price for class 'standard'" in str(totals["gpu-only"])
    # bob rents in the day: the night plan would cost him more, so nothing is recommended.
    bob = recommendation(world, "bob")
    assert (bob.plan, bob.current_minor, bob.plan_minor, bob.saving_minor) == ("", 600, 600, 0)
    assert bob.evidence.startswith("what you pay now (6.00 EUR) is the cheapest of 3 plans and offers")


def test_a_recommendation_is_announced_once_past_the_threshold(world: Database) -> None:
    advise(world, AdviceRules(notify_saving=Decimal("7.01")))
    assert recommendation(world, "alice").notified == ""  # 7.00 saved: below the threshold
    advise(world, AdviceRules(notify_saving=Decimal("7.00")))
    advise(world, AdviceRules(notify_saving=Decimal("7.00")), NOW + timedelta(hours=1))
    sent = world.call(lambda db: [(n.channel, n.event) for n in db.scalars(select(Notification))])
    assert sorted(sent) == [("email", "plan.recommended"), ("webhook", "plan.recommended")]
    assert recommendation(world, "alice").notified == "night//"


def test_offers_are_made_by_rules_shown_before_they_apply_and_priced(world: Database) -> None:
    world.call(create_rule, RuleDraft("night owls", "night_share", "60", plan="night", coupon="NIGHT10"), NOW)
    world.call(create_rule, RuleDraft("regulars", "rented_hours", "3", member_tier="silver"), NOW)
    with pytest.raises(InvalidArgument, match="plan 'day' has no coupon 'NIGHT10'"):
        world.call(create_rule, RuleDraft("bad", "rented_hours", "1", plan="day", coupon="NIGHT10"), NOW)
    advise(world, AdviceRules(offer_notice=timedelta(days=1)))
    offers = world.call(list_offers, "alice", NOW)
    assert sorted((o.rule, o.plan, o.member_tier, o.coupon) for o in offers) == [
        ("night owls", "night", "", "NIGHT10"), ("regulars", "", "silver", ""),
    ]  # fmt: skip
    night = next(o for o in offers if o.rule == "night owls")
    assert (
        night.reason == "81.8 % of rented time 23:00-07:00 in the last 30 days (rule night owls: at least 60)"
    )
    assert world.call(list_offers, "bob", NOW) == []  # 1 h, by day
    assert world.call(applying_offer, "alice", "night", NOW) is None  # shown, not applying yet
    later = NOW + timedelta(days=1)
    assert world.call(applying_offer, "alice", "night", later).rule == "night owls"  # type: ignore[union-attr]
    assert world.call(applying_offer, "alice", "day", later).rule == "regulars"  # type: ignore[union-attr]
    # The night plan with 10 % off: 15.00 - 1.50 = 13.50, cheaper than without (15.00) and than day with
    # the silver discount (22.00 - 1.10 = 20.90).
    alice = recommendation(world, "alice")
    assert (alice.plan, alice.coupon, alice.plan_minor, alice.saving_minor) == ("night", "NIGHT10", 1350, 850)
    totals = {(c["plan"], c["member_tier"]): c.get("total_minor") for c in alice.alternatives["candidates"]}
    assert totals[("day", "silver")] == 2090
    advise(world, AdviceRules(), NOW + timedelta(hours=2))  # offers are not made twice
    assert len(world.call(list_offers, "alice", NOW)) == 2
