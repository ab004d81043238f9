"""Retention of raw measurements: samples and signed reports older than `raw_retention` are deleted once
the usage they measure is invoiced (refused reports' records at that age, invoiced or not); invoices,
their lines, the ledger and the audit log stay.

Each machine is purged on its own up to its own cutoff: `now - raw_retention`, held back to the start of
the oldest not yet invoiced part of a session on that machine. A renter whose invoicing is stuck therefore
keeps only its own machines' raw data, and one machine's failure does not stop the others' purge.

On PostgreSQL the raw tables are partitioned by month (collector.db.partitions): a month whose rows all end
before every machine's cutoff is dropped whole first, so the deletes below find only the rows of the
months still partly kept.

Evidence for disputes: the reports behind the lines of an invoice that can still be disputed (issued less
than its session's plan's `dispute_window` ago) are kept, from the session's start, until the window ends;
an opened dispute holds its own copy of them (collector/invoicing/evidence.py).

Deleting old reports is safe for deduplication: a machine's sequence watermark refuses any report at or
below its last stored sequence, whether or not that report is still kept.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

import billing
from billing.assurance import DEFAULT_DISPUTE_WINDOW_US, MAX_DISPUTE_WINDOW_US
from collector.core.clock import to_us
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import (
    GpuSample,
    Invoice,
    InvoiceLine,
    PlanVersion,
    RentalSession,
    Renter,
    Report,
    ReportRejection,
    Sample,
)
from collector.db.partitions import drop_months_before

logger = logging.getLogger(__name__)

RETENTION_JOB = "purge-raw-data"


def purge_raw_data(db: Session, now: datetime, retention: timedelta) -> JobOutcome:
    """Drop whole monthly partitions past every cutoff (PostgreSQL), then delete, machine by machine,
    samples and reports that ended before the machine's cutoff; the outcome's `produced` is how many rows
    were deleted plus how many partitions were dropped."""
    horizon = now - retention
    held = _uninvoiced_since(db)
    for agent_id, since in _disputable_since(db, now).items():
        held[agent_id] = min(held.get(agent_id, since), since)
    run = JobRun(db, RETENTION_JOB, now)
    dropped = drop_months_before(db, to_us(min([horizon, *held.values()])))
    machines = list(db.scalars(select(Report.agent_id).where(Report.end_us < to_us(horizon)).distinct()))
    for agent_id in machines:
        cutoff = min(horizon, held.get(agent_id, horizon))
        deleted = run.each(f"machine {agent_id}", partial(_purge, db, agent_id, cutoff))
        run.outcome.produced += deleted or 0
    run.settle(f"machine {agent_id}" for agent_id in machines)
    # Refused reports are evidence of nothing billed: they go at the horizon, whatever is invoiced.
    gone = delete(ReportRejection).where(ReportRejection.received_at < horizon)
    run.outcome.produced += db.execute(gone).rowcount or 0  # type: ignore[attr-defined]  # as in _purge
    if run.outcome.produced:
        logger.info("deleted %d raw rows that ended before %s", run.outcome.produced, horizon.isoformat())
    run.outcome.produced += len(dropped)
    return run.outcome


def _uninvoiced_since(db: Session) -> dict[str, datetime]:
    """Per machine, where the oldest part of its sessions that is not yet invoiced starts."""
    query = (
        select(RentalSession.agent_id, RentalSession.started_at, Renter.invoiced_until)
        .join(Renter, Renter.id == RentalSession.renter_id)
        .where(or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > Renter.invoiced_until))
    )
    held: dict[str, datetime] = {}
    for agent_id, started_at, invoiced_until in db.execute(query):
        start = max(started_at, invoiced_until)
        held[agent_id] = min(held.get(agent_id, start), start)
    return held


def _disputable_since(db: Session, now: datetime) -> dict[str, datetime]:
    """Per machine, the start of the oldest session with a line on an invoice that can still be disputed."""
    query = (
        select(RentalSession.agent_id, RentalSession.plan_id, RentalSession.started_at, Invoice.issued_at)
        .join(InvoiceLine, InvoiceLine.session_id == RentalSession.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.issued_at > now - timedelta(microseconds=MAX_DISPUTE_WINDOW_US))
        .distinct()
    )
    windows: dict[tuple[int, datetime], timedelta] = {}
    held: dict[str, datetime] = {}
    for agent_id, plan_id, started_at, issued_at in db.execute(query):
        key = (plan_id, started_at)
        if key not in windows:
            windows[key] = _dispute_window(db, plan_id, started_at)
        if issued_at + windows[key] > now:
            held[agent_id] = min(held.get(agent_id, started_at), started_at)
    return held


def _dispute_window(db: Session, plan_id: int, started_at: datetime) -> timedelta:
    """The dispute window of the plan version in force at `started_at` (the default if none parses)."""
    documents = db.scalars(
        select(PlanVersion.document)
        .where(PlanVersion.plan_id == plan_id, PlanVersion.effective_from <= started_at)
        .order_by(PlanVersion.effective_from.desc())
        .limit(1)
    ).all()
    try:
        window = (
            billing.parse_plan(documents[0], strict=False).assurance.dispute_window_us if documents else 0
        )
    except billing.InvalidPlan:
        window = 0
    return timedelta(microseconds=window or DEFAULT_DISPUTE_WINDOW_US)


def _purge(db: Session, agent_id: str, cutoff: datetime) -> int:
    cutoff_us, deleted = to_us(cutoff), 0
    for table in (Sample, GpuSample, Report):
        statement = delete(table).where(table.agent_id == agent_id, table.end_us < cutoff_us)
        # An ORM DELETE returns a CursorResult; Session.execute is typed Result (sqlalchemy#12913).
        deleted += db.execute(statement).rowcount or 0  # type: ignore[attr-defined]
    return deleted
