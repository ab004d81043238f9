"""Plan recommendations: a renter's real usage of the last days re-rated under every plan on offer to it,
with the engine that rates sessions for their live cost and invoices (collector/sessions/rating.py), and
the cheapest recommended with its saving and the evidence.

Usage: the renter's sessions that started in the window, each rated from its start to its end (an open
one up to now), under its own plan and terms (what it pays now) and under each candidate: every stored
plan in the currency of most of these sessions with the session's terms where the plan knows them (its
own hardware class matched from the machine's facts, service level, member tier, coupon), and each
offer made to the renter with the offer's member tier and coupon. A plan that cannot price a session (no
price for its class) is not a candidate. A candidate is recommended only when its total is lower than
what the renter pays now; never one that would have cost more or the same.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy.orm import Session

import billing
from collector.db.models import Offer, PlanRecommendation, PricePlan, RentalSession, Renter
from collector.delivery.outbox import enqueue_email, enqueue_webhook
from collector.insights.weekly import night_us
from collector.metering.usage import UsageSummary
from collector.sessions.plans import versions_of
from collector.sessions.price_locks import demand_locks
from collector.sessions.rating import cumulative_usage, machine_profile, session_total

logger = logging.getLogger(__name__)

RECOMMENDATION_EVENT = "plan.recommended"


@dataclass(frozen=True)
class Candidate:
    """A plan with the member tier and coupon an offer adds ("" = the session's own)."""

    plan: str
    member_tier: str = ""
    coupon: str = ""
    offer: str = ""  # the rule of the offer it comes from

    @property
    def key(self) -> str:
        return f"{self.plan}/{self.member_tier}/{self.coupon}"

    def describe(self) -> str:
        extras = [f"member tier {self.member_tier}"] * bool(self.member_tier)
        extras += [f"coupon {self.coupon}"] * bool(self.coupon)
        return f"plan {self.plan}" + (f" with {' and '.join(extras)}" if extras else "")


@dataclass(frozen=True)
class Priced:
    candidate: Candidate
    total_minor: int | None  # None: the plan cannot price this usage
    error: str = ""


def candidates(plans: list[PricePlan], currency: str, offers: list[Offer]) -> list[Candidate]:
    """Every plan in `currency`, then each offer (an offer for any plan: with every such plan)."""
    names = sorted(p.name for p in plans if p.currency == currency)
    found = [Candidate(name) for name in names]
    for offer in offers:
        for name in [offer.plan] if offer.plan else names:
            if name in names:
                found.append(Candidate(name, offer.member_tier, offer.coupon, offer.rule))
    return list(dict.fromkeys(found))


def terms_under(
    version: billing.PricePlan, rental: RentalSession, candidate: Candidate, own_plan: bool = False
) -> billing.RentalTerms:
    """The session's terms as `version` would take them; raises billing.BillingError when it cannot. Under
    the session's own plan (`own_plan`) its demand price stays the one locked at its start; another plan is
    priced as it stands (its published demand prices were never shown to this session)."""
    matched = version.class_for(machine_profile(rental.machine.facts or {}))
    coupon = candidate.coupon or (rental.coupon if rental.coupon in version.coupons else "")
    terms = billing.RentalTerms(
        machine_class=matched or rental.machine_class,
        service_level=rental.service_level if rental.service_level in version.service_levels else "",
        member_tier=candidate.member_tier or rental.member_tier,
        coupon=coupon,
        resources={name: Decimal(quantity) for name, quantity in (rental.resources or {}).items()},
        demand=demand_locks(rental) if own_plan else (),
    )
    version.check_terms(terms, rental.started_at)
    return terms


Summaries = dict[tuple[str, int, int], UsageSummary]


def price_candidate(
    db: Session,
    rentals: list[RentalSession],
    plan: PricePlan,
    candidate: Candidate,
    until: datetime,
    summaries: Summaries,
) -> Priced:
    """The candidate's total for `rentals`: each session rated whole and rounded line by line."""
    versions = versions_of(plan)
    total = 0
    try:
        for rental in rentals:
            version = versions[billing.version_at(versions, rental.started_at)]
            terms = terms_under(version, rental, candidate, own_plan=plan.id == rental.plan_id)
            _, charges = cumulative_usage(
                db, rental, until, versions=versions, terms=terms, summaries=summaries
            )
            total += session_total(rental, charges, plan.currency).minor
    except billing.BillingError as exc:
        return Priced(candidate, None, str(exc))
    return Priced(candidate, total)


def current_total(db: Session, rentals: list[RentalSession], until: datetime, summaries: Summaries) -> int:
    """What `rentals` cost under their own plans and terms."""
    total = 0
    for rental in rentals:
        _, charges = cumulative_usage(db, rental, until, summaries=summaries)
        total += session_total(rental, charges, rental.plan.currency).minor
    return total


def recommend(
    db: Session,
    renter: Renter,
    rentals: list[RentalSession],
    plans: list[PricePlan],
    offers: list[Offer],
    window: tuple[datetime, datetime],
    zone: tzinfo,
) -> PlanRecommendation | None:
    """Store and return the renter's recommendation over `rentals` (sessions started in `window`); None
    (and any earlier one removed) when it has no such session."""
    start, now = window
    row = db.get(PlanRecommendation, renter.id)
    if not rentals:
        if row is not None:
            db.delete(row)
        return None
    currency = Counter(r.plan.currency for r in rentals).most_common(1)[0][0]
    rentals = [r for r in rentals if r.plan.currency == currency]
    summaries: Summaries = {}  # segments' usage, shared by plans that cut sessions alike
    current = current_total(db, rentals, now, summaries)
    by_name = {p.name: p for p in plans}
    priced = [
        price_candidate(db, rentals, by_name[c.plan], c, now, summaries)
        for c in candidates(plans, currency, offers)
    ]
    fits = sorted(
        (p for p in priced if p.total_minor is not None), key=lambda p: (p.total_minor, p.candidate.key)
    )
    best = fits[0] if fits and fits[0].total_minor is not None and fits[0].total_minor < current else None
    if row is None:
        row = PlanRecommendation(renter_id=renter.id, notified="")
        db.add(row)
    row.computed_at, row.window_start, row.window_end = now, start, now
    row.currency, row.sessions, row.current_minor = currency, len(rentals), current
    chosen = best.candidate if best else Candidate("")
    row.plan, row.member_tier, row.coupon = chosen.plan, chosen.member_tier, chosen.coupon
    row.plan_minor = best.total_minor if best and best.total_minor is not None else current
    row.saving_minor = current - row.plan_minor
    row.alternatives = {"candidates": [_alternative(p) for p in priced]}
    row.evidence = evidence(rentals, zone, currency, current, best, (now - start).days, len(fits))
    db.flush()
    return row


def _alternative(priced: Priced) -> dict[str, object]:
    c = priced.candidate
    found: dict[str, object] = {
        "plan": c.plan,
        "member_tier": c.member_tier,
        "coupon": c.coupon,
        "offer": c.offer,
    }
    if priced.total_minor is None:
        found["error"] = priced.error
    else:
        found["total_minor"] = priced.total_minor
    return found


def evidence(
    rentals: list[RentalSession],
    zone: tzinfo,
    currency: str,
    current: int,
    best: Priced | None,
    days: int,
    compared: int,
) -> str:
    """Why: "plan night would have cost 312.40 CNY less over the last 30 days: 18 sessions, 14 of them
    mostly 23:00-07:00"."""
    mostly_night = 0
    for rental in rentals:
        end = rental.ended_at or rental.rated_at or rental.started_at
        span = (end - rental.started_at) / timedelta(microseconds=1)
        mostly_night += 2 * night_us(rental.started_at, end, zone) > span > 0
    sessions = f"{len(rentals)} session{'s' * (len(rentals) != 1)}, {mostly_night} of them mostly 23:00-07:00"
    if best is None or best.total_minor is None:
        paid = billing.Money(current, currency)
        return (f"what you pay now ({paid}) is the cheapest of {compared} plans and offers over the last "
                f"{days} days: {sessions}")  # fmt: skip
    saving = billing.Money(current - best.total_minor, currency)
    return f"{best.candidate.describe()} would have cost {saving} less over the last {days} days: {sessions}"


def announce(
    db: Session, renter: Renter, row: PlanRecommendation, threshold: Decimal | None, now: datetime
) -> bool:
    """Tell the provider (webhook) and the renter (e-mail, when it has an address) of a recommendation
    saving at least `threshold` (an amount in the recommendation's currency), once per recommendation
    (plan, tier, coupon)."""
    key = f"{row.plan}/{row.member_tier}/{row.coupon}"
    saving = billing.Money(row.saving_minor, row.currency)
    if threshold is None or not row.plan or row.notified == key or saving.to_decimal() < threshold:
        return False
    body = {"renter": renter.id, "plan": row.plan, "member_tier": row.member_tier, "coupon": row.coupon,
            "saving_minor": row.saving_minor, "currency": row.currency, "evidence": row.evidence}  # fmt: skip
    enqueue_webhook(db, RECOMMENDATION_EVENT, body, now)
    if renter.email:
        subject = f"You could save {saving} with plan {row.plan}"
        enqueue_email(db, RECOMMENDATION_EVENT, renter.email, subject, row.evidence.capitalize() + ".", now)
    row.notified = key
    logger.info("renter %s: recommendation %s (saving %s) announced", renter.id, key, saving)
    return True
