"""Rating under a plan's assurance and idle rules: billing.rate with billed gaps counted as covered time,
then the outage credit (billing/confidence.py), the idle discount (billing/idle.py) and the gap line."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from billing.charges import Charge
from billing.confidence import Gap, billed_gaps, gap_charge, outages, sla_credit, with_billed_gaps
from billing.idle import idle_discount
from billing.meters import Usage
from billing.plan import PricePlan, RentalTerms
from billing.rating import rate, version_at


def rate_assured(
    versions: Sequence[PricePlan],
    terms: RentalTerms,
    start: datetime,
    end: datetime,
    usage_of: Callable[[datetime, datetime], Usage],
    gaps: Sequence[Gap],
    *,
    idle_samples: Iterable[tuple[datetime, datetime]] = (),
    with_gap_line: bool = False,
) -> list[Charge]:
    """billing.rate under the rules of the version in force at `start`: billed gaps count as covered
    time, outages add the "sla" credit, idle time beyond the plan's `[idle] after` the "idle" discount,
    `with_gap_line` adds the "gap" line. `gaps` are the session's gaps over [start, end) and
    `idle_samples` its idle samples' spans (each needed only when a rule asks for them: needs_gaps,
    idle_below)."""
    first = versions[version_at(versions, start)]
    rule = first.assurance
    billed = billed_gaps(gaps, rule)

    def assured_usage(a: datetime, b: datetime) -> Usage:
        return with_billed_gaps(usage_of(a, b), billed, a, b)

    charges = rate(versions, terms, start, end, assured_usage)
    credit = sla_credit(versions, terms, outages(gaps, rule), rule, charges)
    charges += [credit] if credit else []
    if first.idle is not None:
        discount = idle_discount(versions, terms, first.idle, idle_samples, charges)
        charges += [discount] if discount else []
    gap_line = gap_charge(gaps, rule, first.currency) if with_gap_line else None
    return charges + ([gap_line] if gap_line else [])


def needs_gaps(versions: Sequence[PricePlan], start: datetime) -> bool:
    """Whether rating a session that starts at `start` needs its gaps (a rule of its plan uses them)."""
    rule = versions[version_at(versions, start)].assurance
    return bool(rule.bill_gaps_shorter_than_us or rule.credits_outages)


def idle_below(versions: Sequence[PricePlan], start: datetime) -> Decimal | None:
    """The utilisation (percent) below which a sample is idle under the session's plan, or None."""
    rule = versions[version_at(versions, start)].idle
    return rule.below_percent if rule is not None else None
