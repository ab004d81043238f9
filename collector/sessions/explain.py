"""Why a session costs what it costs: its usage, each meter's derivation, the reports behind them and the
invoice lines that charged them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from billing.assurance import Assurance
from collector.core.clock import to_us
from collector.db.models import Invoice, InvoiceLine, RentalSession, Report
from collector.sessions.plans import versions_of
from collector.sessions.rating import cumulative_usage
from collector.sessions.rentals import get_session


@dataclass(frozen=True)
class ReportRange:
    first_sequence: int
    last_sequence: int
    start_us: int
    end_us: int


@dataclass(frozen=True)
class Explanation:
    rental: RentalSession
    plans: list[billing.PricePlan]  # the plan versions in force during the session
    usage: billing.Usage
    charges: list[billing.Charge]
    reports: list[ReportRange]
    invoiced: list[tuple[Invoice, InvoiceLine]]


def explain_session(db: Session, session_id: str, now: datetime) -> Explanation:
    rental = get_session(db, session_id)
    # An ended session's gaps are final; an open one's latest seconds may still be reported.
    ended = rental.ended_at is not None
    usage, charges = cumulative_usage(db, rental, now, with_gap_line=ended)
    end = now if rental.ended_at is None else min(now, rental.ended_at)
    versions = versions_of(rental.plan)
    in_force = {s.version for s in billing.segments(versions, rental.started_at, max(end, rental.started_at))}
    return Explanation(
        rental=rental,
        plans=[versions[i] for i in sorted(in_force)] or [versions[billing.version_at(versions, end)]],
        usage=usage,
        charges=charges,
        reports=_report_ranges(db, rental.agent_id, to_us(rental.started_at), to_us(end)),
        invoiced=[
            (invoice, line)
            for invoice, line in db.execute(
                select(Invoice, InvoiceLine)
                .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                .where(InvoiceLine.session_id == session_id)
                .order_by(Invoice.period_start, InvoiceLine.position)
            )
        ],
    )


def _report_ranges(db: Session, agent_id: str, start_us: int, end_us: int) -> list[ReportRange]:
    """Stored reports overlapping [start_us, end_us), grouped into runs of consecutive sequence numbers."""
    rows = db.execute(
        select(Report.sequence, Report.start_us, Report.end_us)
        .where(Report.agent_id == agent_id, Report.start_us < end_us, Report.end_us > start_us)
        .order_by(Report.sequence)
    ).all()
    ranges: list[ReportRange] = []
    for sequence, start, end in rows:
        last = ranges[-1] if ranges else None
        if last is not None and sequence == last.last_sequence + 1:
            ranges[-1] = ReportRange(last.first_sequence, sequence, last.start_us, max(last.end_us, end))
        else:
            ranges.append(ReportRange(sequence, sequence, start, end))
    return ranges


def plan_rules(plan: billing.PricePlan) -> list[str]:
    """A plan version's rules, one line of text each."""
    currency = plan.currency
    rules = [f"version in force from {plan.effective_from.isoformat()} (times in {plan.timezone})"]
    rules += [f"window {w.describe()}" + (f" x{billing.plain(w.multiplier)}" if w.multiplier else "")
              + (f", at most {billing.Money.of(w.cap, currency)} per {w.name}" if w.cap is not None else "")
              for w in plan.windows]  # fmt: skip
    rules += [rule.describe(currency) for rule in plan.rules]
    if plan.increment_us > 1:
        rules.append(f"rental time billed per {_seconds(plan.increment_us)} s, rounded up")
    if plan.minimum_us:
        rules.append(f"at least {_seconds(plan.minimum_us)} s per session")
    money = [("minimum charge", plan.minimum_charge or None), ("session cap", plan.session_cap),
             ("daily cap", plan.daily_cap)]  # fmt: skip
    rules += [f"{label} {billing.Money.of(value, currency)}" for label, value in money if value is not None]
    rules += [f"service level {name}: x{billing.plain(m)}" for name, m in plan.service_levels.items()]
    rules += [f"member tier {name}: {billing.plain(p)} % off" for name, p in plan.member_discounts.items()]
    if plan.tax:
        rules.append(f"tax {plan.tax.name} {billing.plain(plan.tax.percent)} %")
    if plan.assurance != Assurance():  # a plan without [assurance] reads as before
        rules += plan.assurance.describe()
    rules += [policy.describe() for policy in plan.dynamic]
    rules += [f"time pack {pack.describe(currency)}" for pack in plan.packs]
    rules += [
        f"class {name} uses pack time at x{billing.plain(rate)}" for name, rate in plan.burn_rates.items()
    ]
    return rules


def _seconds(micros: int) -> str:
    return billing.plain(Decimal(micros).scaleb(-6))
