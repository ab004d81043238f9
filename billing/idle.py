"""Idle-aware prices: rental time while the machine is idle costs less, or nothing.

A plan's `[idle]` table:

    [idle]
    below = "5"      # idle: CPU and every GPU busy less than 5 % of a sample
    after = "10m"    # ... for longer than this without a break
    rate = "0.5"     # rental time idle beyond `after` costs 0.5 x its price (0: billing pauses)

A stretch of back-to-back idle samples longer than `after` is discounted from `after` on: the renter pays
full price for the first `after` of any idle stretch (the warning time) and `rate` x the price for the rest.
The discount is one "idle" line of the session, minus (1 - rate) x what the discounted time costs as rental
time (priced by billing.rate, as an outage credit is), at most what the session's other lines charge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from billing.assurance import IdleRule
from billing.charges import Charge, Piece
from billing.confidence import Gap, time_price
from billing.money import to_decimal
from billing.plan import PricePlan, RentalTerms

IDLE_METER = "idle"
_US = timedelta(microseconds=1)


def discounted_spans(idle_samples: Iterable[tuple[datetime, datetime]], rule: IdleRule) -> list[Gap]:
    """The idle time beyond `after` of each stretch of back-to-back idle samples (in time order)."""
    stretches: list[list[datetime]] = []
    for start, end in sorted(idle_samples):
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], end)
        else:
            stretches.append([start, end])
    after = timedelta(microseconds=rule.after_us)
    return [Gap(a + after, b) for a, b in stretches if b - a > after]


def idle_discount(
    versions: Sequence[PricePlan],
    terms: RentalTerms,
    rule: IdleRule,
    idle_samples: Iterable[tuple[datetime, datetime]],
    charged: Sequence[Charge],
) -> Charge | None:
    """The "idle" line (negative), or None when nothing was idle long enough."""
    spans = discounted_spans(idle_samples, rule)
    if not spans:
        return None
    price = time_price(versions, terms, spans)
    charged_total = sum((Fraction(c.amount) for c in charged), Fraction(0))
    discount = min(price * (1 - Fraction(rule.rate)), max(charged_total, Fraction(0)))
    if discount <= 0:
        return None
    seconds = sum((s.end - s.start) // _US for s in spans)
    how = "billing paused" if not rule.rate else f"at x{format(rule.rate.normalize(), 'f')}"
    return Charge(
        meter=IDLE_METER,
        description=f"idle discount: {_s(seconds)} s idle beyond {_s(rule.after_us)} s"
        f" (CPU and GPUs below {format(rule.below_percent.normalize(), 'f')} %), {how}",
        quantity=Decimal(seconds).scaleb(-6).normalize(),
        unit="s",
        rate=Decimal(0),
        rate_unit="",
        amount=-to_decimal(discount),
        currency=versions[0].currency,
        pieces=tuple(Piece(s.start, s.end, "", Decimal(s.us).scaleb(-6), Decimal(0), "idle") for s in spans),
    )


def _s(micros: int) -> str:
    return format((Decimal(micros) / 1_000_000).normalize(), "f")
