"""The advice job: offers from the provider's rules, then a plan recommendation, for every renter with
sessions in the last days; INSIGHT_BATCH renters per transaction, each in a savepoint (one renter's
failure is recorded and retried, the others are advised). Erased renters are left alone."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.accounts.renters import renter_zone
from collector.db.database import Database
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import OfferRule, PlanRecommendation, PricePlan, RentalSession, Renter
from collector.insights.offers import assign_offers, list_offers, list_rules, window_stats
from collector.insights.profiling import INSIGHT_BATCH
from collector.insights.recommending import announce, recommend
from collector.sessions.plans import list_plans

logger = logging.getLogger(__name__)

ADVICE_JOB = "recommend-plans"


@dataclass(frozen=True)
class AdviceRules:
    """The provider's settings: days of usage re-rated, the saving that is announced (None: never), how
    long before it applies an offer is shown."""

    days: int = 30
    notify_saving: Decimal | None = None
    offer_notice: timedelta = timedelta(days=1)


async def refresh_advice(database: Database, now: datetime, rules: AdviceRules) -> JobOutcome:
    renters = await database.run(renters_to_advise, now, rules)
    outcome = JobOutcome(ADVICE_JOB)
    for first in range(0, len(renters), INSIGHT_BATCH):
        batch = renters[first : first + INSIGHT_BATCH]
        outcome.add(await database.run(advise_renters, now, rules, batch))
    if outcome.processed:
        logger.info("advice: %d renters", outcome.processed)
    return outcome


def _since(db: Session, now: datetime, rules: AdviceRules) -> datetime:
    """The start of the longest window anything looks at: the recommendation's, or an offer rule's."""
    longest = max([rules.days, *db.scalars(select(OfferRule.window_days))])
    return now - timedelta(days=longest)


def renters_to_advise(db: Session, now: datetime, rules: AdviceRules) -> list[str]:
    """Renters (not erased) with sessions started in the window, or with a recommendation to refresh."""
    since = _since(db, now, rules)
    active = select(RentalSession.renter_id).where(RentalSession.started_at >= since).distinct()
    found = set(db.scalars(active)) | set(db.scalars(select(PlanRecommendation.renter_id)))
    erased = set(db.scalars(select(Renter.id).where(Renter.erased_at.is_not(None))))
    return sorted(found - erased)


def advise_renters(db: Session, now: datetime, rules: AdviceRules, renter_ids: list[str]) -> JobOutcome:
    since = _since(db, now, rules)
    query = select(RentalSession).where(
        RentalSession.renter_id.in_(renter_ids),
        RentalSession.started_at >= since,
        RentalSession.started_at < now,
    )
    rentals: dict[str, list[RentalSession]] = defaultdict(list)
    for rental in db.scalars(query.order_by(RentalSession.started_at, RentalSession.id)):
        rentals[rental.renter_id].append(rental)
    plans, offer_rules = list_plans(db), list_rules(db)
    run = JobRun(db, ADVICE_JOB, now)
    for renter_id in renter_ids:
        work = partial(_advise_one, db, now, rules, renter_id, rentals[renter_id], plans, offer_rules)
        run.each(f"renter {renter_id}", work)
    return run.outcome


def _advise_one(
    db: Session,
    now: datetime,
    rules: AdviceRules,
    renter_id: str,
    rentals: list[RentalSession],
    plans: list[PricePlan],
    offer_rules: list[OfferRule],
) -> None:
    renter = db.get(Renter, renter_id)
    assert renter is not None
    zone = renter_zone(renter) or UTC
    stats = {
        days: window_stats(rentals, zone, now - timedelta(days=days), now)
        for days in {rule.window_days for rule in offer_rules}
    }
    assign_offers(db, renter_id, stats, offer_rules, now, rules.offer_notice)
    start = now - timedelta(days=rules.days)
    recent = [r for r in rentals if r.started_at >= start]
    row = recommend(db, renter, recent, plans, list_offers(db, renter_id, now), (start, now), zone)
    if row is not None:
        announce(db, renter, row, rules.notify_saving, now)
