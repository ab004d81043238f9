"""Why a session costs what it costs: its usage, each meter's derivation, the reports behind them and the
invoice lines that charged them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from collector.db.models import Invoice, InvoiceLine, RentalSession, Report
from collector.plans import to_domain
from collector.rating import cumulative_usage
from collector.rentals import get_session
from collector.usage import UsageSummary


@dataclass(frozen=True)
class ReportRange:
    first_sequence: int
    last_sequence: int
    start_us: int
    end_us: int


@dataclass(frozen=True)
class Explanation:
    rental: RentalSession
    plan: billing.PricePlan
    usage: UsageSummary
    charges: list[billing.Charge]
    reports: list[ReportRange]
    invoiced: list[tuple[Invoice, InvoiceLine]]


def explain_session(db: Session, session_id: str, now: datetime) -> Explanation:
    rental = get_session(db, session_id)
    usage, charges = cumulative_usage(db, rental, now)
    return Explanation(
        rental=rental,
        plan=to_domain(rental.plan),
        usage=usage,
        charges=charges,
        reports=_report_ranges(db, rental.agent_id, usage.start_us, usage.end_us),
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


def plan_rules(plan: billing.PricePlan, machine_class: str) -> str:
    """The plan's rules for one machine class, as one line of text."""
    rules = [f"{machine_class}: {plan.hourly_rate(machine_class)} {plan.currency}/h"]
    if plan.increment_us > 1:
        rules.append(f"billed per {_seconds(plan.increment_us)} s")
    if plan.minimum_us:
        rules.append(f"minimum {_seconds(plan.minimum_us)} s per session")
    for label, price in (("traffic in", plan.traffic_in_per_gb), ("traffic out", plan.traffic_out_per_gb)):
        if price:
            rules.append(f"{label}: {price} {plan.currency}/GB")
    return "; ".join(rules)


def _seconds(micros: int) -> str:
    return billing.plain(Decimal(micros).scaleb(-6))
