"""Session-wide terms, applied after the usage charges: caps, minimum charge, discounts, coupon, tax.

Each is an invoice line of its own, computed from amounts a renter can check:
- caps and minimum charge: the usage charges inside each occurrence of a capped window are capped at the
  window's cap (billing/window_caps.py), then the exact total per local day is capped at `daily_cap`, the sum
  capped at `session_cap`, then raised to `minimum_charge` (when anything was used); the line is the
  rounded result minus the sum of the rounded usage lines, so the subtotal is exactly the cap (or minimum);
- member discount: percent of that subtotal, rounded;
- coupon: percent of what remains (rounded), or a fixed amount up to what remains;
- tax: percent of the net after discounts, rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from billing.charges import Charge
from billing.money import Money, exponent, round_to_minor, to_decimal
from billing.plan import PricePlan, RentalTerms
from billing.window_caps import cap_windows


def session_adjustments(
    plan: PricePlan, terms: RentalTerms, start: datetime, charges: Sequence[Charge]
) -> list[Charge]:
    currency = plan.currency
    rounded = sum(round_to_minor(c.amount, currency) for c in charges)
    days: dict[date | None, Fraction] = {}
    for charge in charges:
        for day, amount in charge.day_amounts:
            days[day] = days.get(day, Fraction(0)) + amount
    capping = cap_windows(days, (slot for charge in charges for slot in charge.window_amounts))
    days = capping.days
    capped = sum(days.values(), Fraction(0))
    reasons = capping.reasons(lambda amount: _money(amount, currency))
    if plan.daily_cap is not None:
        capped = sum((min(amount, Fraction(plan.daily_cap)) for amount in days.values()), Fraction(0))
        over = sum(1 for amount in days.values() if amount > plan.daily_cap)
        if over:
            reasons.append(
                f"daily cap {_money(plan.daily_cap, currency)} ({over} day{'s' * (over > 1)} capped)"
            )
    if plan.session_cap is not None and capped > plan.session_cap:
        capped = Fraction(plan.session_cap)
        reasons.append(f"session cap {_money(plan.session_cap, currency)}")
    if plan.minimum_charge and charges and capped < plan.minimum_charge:
        capped = Fraction(plan.minimum_charge)
        reasons.append(f"minimum charge {_money(plan.minimum_charge, currency)} per session")
    target = round_to_minor(to_decimal(capped), currency) if reasons else rounded
    lines = []
    if reasons and target != rounded:
        meter = "minimum_charge" if target > rounded else "cap"
        lines.append(_fixed(meter, ", ".join(reasons) + f" (usage lines {_minor(rounded, currency)})",
                            currency, target - rounded, base=rounded))  # fmt: skip
    remaining = target
    percent_off = plan.member_discounts.get(terms.member_tier) if terms.member_tier else None
    if percent_off:
        off = _percent_of(remaining, percent_off, currency)
        lines.append(_fixed("discount", f"{terms.member_tier} member discount {_plain(percent_off)} %",
                            currency, -off, base=remaining, percent=-percent_off))  # fmt: skip
        remaining -= off
    coupon = plan.coupons.get(terms.coupon) if terms.coupon else None
    if coupon is not None and coupon.valid_at(start):
        if coupon.percent:
            off = _percent_of(remaining, coupon.percent, currency)
            text = f"coupon {coupon.code}: {_plain(coupon.percent)} % off"
        else:
            off = min(round_to_minor(coupon.amount, currency), remaining)
            text = f"coupon {coupon.code}: {_money(coupon.amount, currency)} off"
        lines.append(_fixed("coupon", text, currency, -off, base=remaining,
                            percent=-coupon.percent if coupon.percent else None))  # fmt: skip
        remaining -= off
    if plan.tax is not None and plan.tax.percent:
        tax = _percent_of(remaining, plan.tax.percent, currency)
        text = f"{plan.tax.name} {_plain(plan.tax.percent)} %"
        percent = plan.tax.percent
        lines.append(_fixed(f"tax:{plan.tax.name}", text, currency, tax, base=remaining, percent=percent))
    return [line for line in lines if line.amount]


def _percent_of(minor: int, percent: Decimal, currency: str) -> int:
    return round_to_minor(
        to_decimal(Fraction(minor) * Fraction(percent) / 100).scaleb(-exponent(currency)), currency
    )


def _fixed(
    meter: str, description: str, currency: str, minor: int, *, base: int, percent: Decimal | None = None
) -> Charge:
    """A line whose amount is already whole minor units; quantity is the amount it was computed from,
    rate the percentage applied to it (none for caps, minimums and fixed amounts)."""
    amount = Decimal(minor).scaleb(-exponent(currency))
    return Charge(
        meter=meter,
        description=description,
        quantity=Decimal(base).scaleb(-exponent(currency)),
        unit=currency,
        rate=percent if percent is not None else Decimal(0),
        rate_unit="%" if percent is not None else "",
        amount=amount,
        currency=currency,
    )


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _money(value: Decimal, currency: str) -> str:
    return str(Money.of(value, currency))


def _minor(minor: int, currency: str) -> str:
    return str(Money(minor, currency))
