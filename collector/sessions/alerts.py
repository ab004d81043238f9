"""What needs the provider's attention now, from the database (so that every collector sharing it answers
the same) and this collector's job board:

- machine_offline: a machine with an open session that has not reported within the online window;
- reports_rejected: reports refused in the last ALERT_WINDOW, per machine and reason kind;
- report_gaps: holes agents reported in their own reporting in the last ALERT_WINDOW, per machine and kind;
- balance_low: a prepaid renter whose spendable balance (the wallet minus the rated, not yet invoiced cost
  of its sessions) is below the highest low-balance alert level while a session runs, or below zero;
- job_failing: a scheduled job that fails on some subjects (job_failures, any collector's), or whose whole
  last run failed on this collector.

Each kind is one query (two for jobs), whatever the number of machines and renters: the portal polls this.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

import billing
from collector.core.job_board import JobBoard
from collector.db.models import (
    InvoiceLine,
    JobFailure,
    LedgerEntry,
    Machine,
    PricePlan,
    RentalSession,
    Renter,
    ReportGap,
    ReportRejection,
)

ALERT_WINDOW = timedelta(hours=24)
KINDS = ("machine_offline", "reports_rejected", "report_gaps", "balance_low", "job_failing")


@dataclass(frozen=True)
class Alert:
    kind: str
    subject: str  # a machine, a renter or a job
    message: str
    since: datetime | None
    count: int  # reports, gaps or failing subjects; open sessions for machines and balances


def alerts(
    db: Session, now: datetime, *, online_window: timedelta, low_balance: Decimal | None, board: JobBoard
) -> list[Alert]:
    """Every alert now, by kind (in KINDS' order), then oldest first."""
    found = [
        *_offline(db, now, online_window),
        *_rejected(db, now),
        *_gaps(db, now),
        *_balances(db, low_balance),
        *_jobs(db, board),
    ]
    order = {kind: rank for rank, kind in enumerate(KINDS)}
    return sorted(found, key=lambda a: (order[a.kind], a.since or now, a.subject))


def _offline(db: Session, now: datetime, online_window: timedelta) -> list[Alert]:
    query = (
        select(RentalSession.id, RentalSession.renter_id, RentalSession.started_at, Machine)
        .join(Machine, Machine.agent_id == RentalSession.agent_id)
        .where(
            RentalSession.ended_at.is_(None),
            Machine.revoked_at.is_(None),
            or_(Machine.last_seen_at.is_(None), Machine.last_seen_at < now - online_window),
        )
    )
    found = []
    for session_id, renter, started_at, machine in db.execute(query):
        since = max(machine.last_seen_at or started_at, started_at)
        label = f" ({machine.label})" if machine.label else ""
        heard = f"since {machine.last_seen_at.isoformat()}" if machine.last_seen_at else "at all"
        message = f"machine {machine.agent_id}{label} has not reported {heard} while session {session_id} of"
        found.append(Alert("machine_offline", machine.agent_id, f"{message} {renter} is open", since, 1))
    return found


def _rejected(db: Session, now: datetime) -> list[Alert]:
    refused = ReportRejection
    query = (
        select(refused.agent_id, refused.kind, func.count(), func.min(refused.received_at),
               func.max(refused.received_at))
        .where(refused.received_at >= now - ALERT_WINDOW)
        .group_by(refused.agent_id, refused.kind)
    )  # fmt: skip
    found = []
    for agent_id, kind, count, first, last in db.execute(query):
        message = (
            f"{count} report(s) of machine {agent_id} refused ({kind}) in the last {_hours(ALERT_WINDOW)}"
        )
        found.append(
            Alert("reports_rejected", agent_id, f"{message}, the last at {last.isoformat()}", first, count)
        )
    return found


def _gaps(db: Session, now: datetime) -> list[Alert]:
    query = (
        select(ReportGap.agent_id, ReportGap.kind, func.count(), func.min(ReportGap.received_at))
        .where(ReportGap.received_at >= now - ALERT_WINDOW)
        .group_by(ReportGap.agent_id, ReportGap.kind)
    )
    found = []
    for agent_id, kind, count, first in db.execute(query):
        message = f"machine {agent_id} reported {count} gap(s) in its reporting ({kind})"
        found.append(
            Alert("report_gaps", agent_id, f"{message} in the last {_hours(ALERT_WINDOW)}", first, count)
        )
    return found


def _balances(db: Session, low_balance: Decimal | None) -> list[Alert]:
    """Prepaid renters short of money: balances from the ledger, owed from the sessions not yet fully
    invoiced (their rated cost minus what invoices charged of them), open sessions counted."""
    held: dict[tuple[str, str], int] = defaultdict(int)
    wallet = or_(LedgerEntry.account == literal("wallet:") + Renter.id,
                 LedgerEntry.account == literal("hold:") + Renter.id)  # fmt: skip
    balances = (
        select(Renter.id, LedgerEntry.currency, -func.sum(LedgerEntry.amount_minor))
        .join(LedgerEntry, wallet)
        .where(Renter.prepaid.is_(True))
        .group_by(Renter.id, LedgerEntry.currency)
    )
    for renter, currency, balance in db.execute(balances):
        held[renter, currency] += int(balance or 0)
    invoiced = (
        select(func.coalesce(func.sum(InvoiceLine.amount_minor), 0))
        .where(InvoiceLine.session_id == RentalSession.id)
        .scalar_subquery()
    )
    owed = (
        select(RentalSession.renter_id, PricePlan.currency, func.sum(RentalSession.cost_minor - invoiced),
               func.sum(case((RentalSession.ended_at.is_(None), 1), else_=0)),
               func.min(RentalSession.exhausted_at))
        .join(Renter, Renter.id == RentalSession.renter_id)
        .join(PricePlan, PricePlan.id == RentalSession.plan_id)
        .where(Renter.prepaid.is_(True),
               or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > Renter.invoiced_until))
        .group_by(RentalSession.renter_id, PricePlan.currency)
    )  # fmt: skip
    running: dict[tuple[str, str], tuple[int, datetime | None]] = {}
    for renter, currency, cost, open_count, exhausted in db.execute(owed):
        held[renter, currency] -= int(cost or 0)
        running[renter, currency] = (int(open_count or 0), exhausted)
    found = []
    for (renter, currency), spendable in sorted(held.items()):
        sessions, exhausted = running.get((renter, currency), (0, None))
        level = billing.Money.of(low_balance, currency).minor if low_balance is not None else 0
        if spendable >= 0 and not (sessions and spendable < level):
            continue
        shown = billing.Money(spendable, currency)
        state = "is overdrawn" if spendable < 0 else f"is below {billing.Money(level, currency)}"
        message = f"the wallet of {renter} {state}: {shown} spendable, {sessions} session(s) running"
        found.append(Alert("balance_low", renter, message, exhausted, sessions))
    return found


def _jobs(db: Session, board: JobBoard) -> list[Alert]:
    failing = (
        select(JobFailure.job, func.count(), func.min(JobFailure.first_failed_at),
               func.max(JobFailure.last_failed_at))
        .group_by(JobFailure.job)
    )  # fmt: skip
    groups = {job: (int(count), first, last) for job, count, first, last in db.execute(failing)}
    latest = {}
    if groups:
        newest = select(JobFailure).where(
            or_(*(and_(JobFailure.job == job, JobFailure.last_failed_at == last)
                  for job, (_, _, last) in groups.items()))
        )  # fmt: skip
        latest = {row.job: row for row in db.scalars(newest)}
    found = []
    for job, (count, first, _) in sorted(groups.items()):
        example = latest.get(job)
        detail = f", e.g. {example.subject}: {example.error}" if example is not None else ""
        found.append(
            Alert("job_failing", job, f"job {job} fails on {count} subject(s){detail}", first, count)
        )
    for state in board.states():
        if state.error:
            message = f"the last run of job {state.name} failed: {state.error}"
            found.append(Alert("job_failing", state.name, message, state.last_finished, 1))
    return found


def _hours(window: timedelta) -> str:
    return f"{window // timedelta(hours=1)} h"
