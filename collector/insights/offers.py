"""Offers: the provider's rules ("renters with at least 20 h in the last 30 days get member tier silver",
"renters renting at night at least 60 % of the time are offered plan night with coupon NIGHT10"), and
the offers the insights job makes from them.

An offer is made of what the billing engine already understands: a plan (a price plan by name), a member
tier (the plan's `[member_discounts]`) and a coupon (the plan's `[coupons]`). It is shown from when it is
made and applies from `valid_from` (made + the offer notice) to `valid_until`, so a renter sees it before
it applies. While it applies, a session started without a member tier or coupon (SessionService.
StartSession) takes the offer's: an offer naming the session's plan first, then one for any plan, the
newest first; terms the caller gives always win.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import billing
from collector.core.errors import AlreadyExists, InvalidArgument, NotFound
from collector.db.models import Offer, OfferRule, RentalSession
from collector.insights.weekly import night_us
from collector.sessions.plans import get_plan, versions_of

logger = logging.getLogger(__name__)

# What a rule can ask of a renter's last `window_days`: rented hours, or the percentage of its rented time
# between 23:00 and 07:00 in its time zone.
CONDITIONS = {"rented_hours": "hours rented", "night_share": "% of rented time 23:00-07:00"}
MAX_DAYS = 366
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}")


@dataclass(frozen=True)
class RuleDraft:
    """A rule as the provider writes it (validated by create_rule)."""

    name: str
    condition: str
    threshold: str
    window_days: int = 30
    plan: str = ""
    member_tier: str = ""
    coupon: str = ""
    valid_days: int = 30


@dataclass(frozen=True)
class WindowStats:
    """A renter's rented time over a window: hours (exact) and the share of it at night, 0..1."""

    hours: Decimal
    night_share: Decimal

    def measure(self, condition: str) -> Decimal:
        return self.hours if condition == "rented_hours" else self.night_share * 100


def window_stats(rentals: list[RentalSession], zone: tzinfo, start: datetime, end: datetime) -> WindowStats:
    """Rented time of `rentals` inside [start, end) (open sessions up to `end`)."""
    total = night = 0
    for rental in rentals:
        span_start, span_end = max(rental.started_at, start), min(rental.ended_at or end, end)
        if span_end > span_start:
            total += int((span_end - span_start) / timedelta(microseconds=1))
            night += night_us(span_start, span_end, zone)
    share = Decimal(night) / Decimal(total) if total else Decimal(0)
    return WindowStats(Decimal(total) / Decimal(3_600_000_000), share)


def create_rule(db: Session, draft: RuleDraft, now: datetime) -> OfferRule:
    """Store a rule; InvalidArgument with a sentence when it cannot work, AlreadyExists for a taken name."""
    _check(db, draft)
    if db.scalar(select(OfferRule.id).where(OfferRule.name == draft.name)) is not None:
        raise AlreadyExists(f"offer rule {draft.name!r} already exists")
    row = OfferRule(
        name=draft.name, condition=draft.condition, threshold=str(Decimal(draft.threshold)),
        window_days=draft.window_days, plan=draft.plan, member_tier=draft.member_tier, coupon=draft.coupon,
        valid_days=draft.valid_days, created_at=now,
    )  # fmt: skip
    db.add(row)
    try:
        db.flush()
    except IntegrityError:
        raise AlreadyExists(f"offer rule {draft.name!r} already exists") from None
    logger.info("offer rule %s created", draft.name)
    return row


def _check(db: Session, draft: RuleDraft) -> None:
    if not _NAME.fullmatch(draft.name):
        raise InvalidArgument("name: 1 to 100 letters, digits, spaces, dots, dashes or underscores")
    if draft.condition not in CONDITIONS:
        raise InvalidArgument(f"condition: {draft.condition!r} is not one of {', '.join(CONDITIONS)}")
    try:
        threshold = Decimal(draft.threshold)
    except InvalidOperation:
        threshold = Decimal("NaN")
    limit = 100 if draft.condition == "night_share" else 24 * MAX_DAYS
    if not threshold.is_finite() or not 0 <= threshold <= limit or len(draft.threshold) > 40:
        raise InvalidArgument(f"threshold: {draft.threshold!r} must be a number from 0 to {limit}")
    for name, days in (("window_days", draft.window_days), ("valid_days", draft.valid_days)):
        if not 1 <= days <= MAX_DAYS:
            raise InvalidArgument(f"{name}: from 1 to {MAX_DAYS} days, not {days}")
    if not (draft.plan or draft.member_tier or draft.coupon):
        raise InvalidArgument("an offer needs a plan, a member tier or a coupon")
    if draft.coupon and not draft.plan:
        raise InvalidArgument("a coupon belongs to a plan: name the plan too")
    if draft.plan:
        version = versions_of(get_plan(db, draft.plan))[-1]
        if draft.member_tier and draft.member_tier not in version.member_discounts:
            raise InvalidArgument(f"plan {draft.plan!r} has no member tier {draft.member_tier!r}")
        if draft.coupon and draft.coupon not in version.coupons:
            raise InvalidArgument(f"plan {draft.plan!r} has no coupon {draft.coupon!r}")


def delete_rule(db: Session, name: str) -> None:
    """Remove a rule; the offers it made stay until they end."""
    row = db.scalar(select(OfferRule).where(OfferRule.name == name))
    if row is None:
        raise NotFound("offer rule", name)
    db.delete(row)


def list_rules(db: Session) -> list[OfferRule]:
    return list(db.scalars(select(OfferRule).order_by(OfferRule.name)))


def assign_offers(
    db: Session,
    renter_id: str,
    stats_of: dict[int, WindowStats],
    rules: list[OfferRule],
    now: datetime,
    notice: timedelta,
) -> list[Offer]:
    """Offers for the rules `renter_id` meets now (`stats_of`: its stats per window length in days) and
    holds no offer of yet, each applying from now + `notice` for the rule's valid_days."""
    held = set(db.scalars(select(Offer.rule).where(Offer.renter_id == renter_id, Offer.valid_until > now)))
    made = []
    for rule in rules:
        stats = stats_of[rule.window_days]
        measured, threshold = stats.measure(rule.condition), Decimal(rule.threshold)
        if rule.name in held or measured < threshold:
            continue
        reason = (f"{_plain(measured)} {CONDITIONS[rule.condition]} in the last {rule.window_days} days "
                  f"(rule {rule.name}: at least {_plain(threshold)})")  # fmt: skip
        offer = Offer(
            renter_id=renter_id, rule=rule.name, plan=rule.plan, member_tier=rule.member_tier,
            coupon=rule.coupon, reason=reason, offered_at=now, valid_from=now + notice,
            valid_until=now + notice + timedelta(days=rule.valid_days),
        )  # fmt: skip
        db.add(offer)
        made.append(offer)
    if made:
        db.flush()
        logger.info("renter %s: %d offers made (%s)", renter_id, len(made), ", ".join(o.rule for o in made))
    return made


def list_offers(db: Session, renter_id: str, now: datetime, *, ended_too: bool = False) -> list[Offer]:
    """A renter's offers, newest first: those still to apply or applying (with `ended_too`, all)."""
    query = select(Offer).where(Offer.renter_id == renter_id)
    if not ended_too:
        query = query.where(Offer.valid_until > now)
    return list(db.scalars(query.order_by(Offer.offered_at.desc(), Offer.id.desc())))


def applying_offer(db: Session, renter_id: str, plan: str, now: datetime) -> Offer | None:
    """The offer whose terms a session of `renter_id` under `plan` started `now` without terms takes: one
    naming the plan before one for any plan, then the newest."""
    query = select(Offer).where(
        Offer.renter_id == renter_id,
        Offer.valid_from <= now,
        Offer.valid_until > now,
        or_(Offer.plan == plan, Offer.plan == ""),
    )
    found = list(db.scalars(query))
    found.sort(key=lambda o: (o.plan == plan, o.valid_from, o.id), reverse=True)
    return found[0] if found else None


def offered_terms(terms: billing.RentalTerms, offer: Offer | None) -> billing.RentalTerms:
    """`terms` with the offer's member tier and coupon, when the caller gave neither."""
    if offer is None or terms.member_tier or terms.coupon:
        return terms
    return replace(terms, member_tier=offer.member_tier, coupon=offer.coupon)


def _plain(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.1")).normalize(), "f")
