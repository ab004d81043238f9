"""Closing invoices: each renter's time is cut into back-to-back billing periods, each invoiced once.

A renter's `invoiced_until` marks where its next period starts. Periods end on the boundaries of the
renter's billing cycle (hourly, daily, weekly or monthly from its anchor, billing/cycles.py), or, for a
renter without one, of the collector's period aligned to the Unix epoch in UTC (a one-day period ends at
UTC midnight). In the renter's time zone, if it has one, days start at local midnight (billing/cycles.py).
The scheduled job closes periods that ended at
least `grace` ago, leaving late reports time to arrive; "invoice now" closes the current period early.
Everything for one renter happens in one transaction that also advances `invoiced_until`, so running the
job twice never makes a second invoice for a period.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import billing
from billing import confidence, ledger
from billing.confidence import Confidence
from billing.cycles import Cycle, FixedPeriods
from collector.accounts.renters import PER_SESSION, renter_zone
from collector.accounts.wallets import post
from collector.core.clock import to_us
from collector.db.database import Database
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import Invoice, InvoiceCounter, InvoiceLine, RentalSession, Renter, Report
from collector.delivery.documents import period_text
from collector.delivery.outbox import enqueue_email, enqueue_webhook
from collector.sessions.rating import cumulative_usage

logger = logging.getLogger(__name__)

# Late usage is looked for in sessions that ended at most this long before the renter's invoiced-until mark.
LATE_USAGE_HORIZON = timedelta(days=90)
DEFAULT_PREFIX = "RM"
INVOICING_JOB = "close-invoices"


def next_boundary(moment: datetime, period: timedelta) -> datetime:
    """The first boundary of `period` (aligned to the Unix epoch in UTC) strictly after `moment`."""
    return FixedPeriods(period).after(moment)


NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Periods:
    """A renter's period boundaries: its billing cycle; for pay-as-you-go (PER_SESSION) the ends of its
    sessions; else `period` aligned to the epoch. Cycles and periods follow the renter's time zone."""

    boundaries: Cycle | FixedPeriods | None
    session_ends: tuple[datetime, ...] = ()

    @classmethod
    def of(cls, renter: Renter, period: timedelta, sessions: list[RentalSession]) -> Periods:
        if renter.billing_cycle == PER_SESSION:
            return cls(None, tuple(sorted(s.ended_at for s in sessions if s.ended_at is not None)))
        zone = renter_zone(renter)
        if renter.billing_cycle:
            return cls(Cycle(renter.billing_cycle, renter.cycle_anchor or renter.created_at, zone))
        return cls(FixedPeriods(period, zone))

    def after(self, moment: datetime) -> datetime:
        if self.boundaries is None:
            return next((end for end in self.session_ends if end > moment), NEVER)
        return self.boundaries.after(moment)

    def at_or_before(self, moment: datetime) -> datetime:
        if self.boundaries is None:
            return max((end for end in self.session_ends if end <= moment), default=moment)
        return self.boundaries.at_or_before(moment)


def close_invoices(
    db: Session,
    now: datetime,
    *,
    period: timedelta,
    grace: timedelta,
    renter_id: str = "",
    renter_ids: Sequence[str] = (),
    invoice_now: bool = False,
    until: datetime | None = None,
    prefix: str = DEFAULT_PREFIX,
    run: JobRun | None = None,
) -> list[Invoice]:
    """Invoice every finished period of every renter (or only `renter_id`, or `renter_ids`) up to `until`
    (default: now); return the new invoices, issued at `now` and numbered `prefix`-NNNNNN.

    Each renter is invoiced in a savepoint of `run` (default: a new run of the invoicing job): a renter
    whose invoicing fails is rolled back and recorded, and the others are invoiced."""
    run = run or JobRun(db, INVOICING_JOB, now)
    query = select(Renter).order_by(Renter.id).with_for_update()
    if renter_id:
        query = query.where(Renter.id == renter_id)
    if renter_ids:
        query = query.where(Renter.id.in_(renter_ids))
    until = until or now
    cutoff = until if invoice_now else until - grace
    created: list[Invoice] = []
    # Renters share nothing, so their invoices are written when their savepoint ends rather than flushed
    # before each query; _close_renter flushes itself between periods of one renter.
    with db.no_autoflush:
        for renter in list(db.scalars(query)):
            invoices = run.each(
                f"renter {renter.id}",
                partial(_close_renter, db, renter, cutoff, period, invoice_now, now, prefix),
            )
            created.extend(invoices or [])
    return created


def renters_due(db: Session, now: datetime, grace: timedelta) -> list[str]:
    """Ids of the renters whose next period ended at least `grace` ago (or not yet known)."""
    due = or_(Renter.next_invoice_at.is_(None), Renter.next_invoice_at <= now - grace)
    return list(db.scalars(select(Renter.id).where(due).order_by(Renter.id)))


def _sessions_with_late_usage(db: Session, renter: Renter) -> list[RentalSession]:
    """Sessions invoiced to their end whose machine delivered reports for them after the renter's last
    invoice was issued: their difference is billed as adjustment lines."""
    last_issued = db.scalar(select(func.max(Invoice.issued_at)).where(Invoice.renter_id == renter.id))
    if last_issued is None:
        return []
    horizon = renter.invoiced_until - LATE_USAGE_HORIZON
    ended = db.scalars(
        select(RentalSession).where(
            RentalSession.renter_id == renter.id,
            RentalSession.ended_at.is_not(None),
            RentalSession.ended_at <= renter.invoiced_until,
            RentalSession.ended_at > horizon,
        )
    )
    late = []
    for rental in ended:
        assert rental.ended_at is not None, "selected as ended"
        arrived = select(Report.id).where(
            Report.agent_id == rental.agent_id,
            Report.received_at > last_issued,
            Report.start_us < to_us(rental.ended_at),
            Report.end_us > to_us(rental.started_at),
        )
        if db.scalar(arrived.limit(1)) is not None:
            late.append(rental)
    return late


def _close_renter(
    db: Session,
    renter: Renter,
    cutoff: datetime,
    period: timedelta,
    invoice_now: bool,
    now: datetime,
    prefix: str,
) -> list[Invoice]:
    sessions = list(
        db.scalars(
            select(RentalSession).where(
                RentalSession.renter_id == renter.id,
                RentalSession.started_at < cutoff,
                or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > renter.invoiced_until),
            )
        )
    )
    late = _sessions_with_late_usage(db, renter)
    periods = Periods.of(renter, period, sessions)
    created: list[Invoice] = []
    while True:
        start = renter.invoiced_until
        end = periods.after(start)
        if end > cutoff:
            if not invoice_now or cutoff <= start:
                break
            end = cutoff
        in_period = [s for s in sessions if s.started_at < end and (s.ended_at is None or s.ended_at > start)]
        if not in_period and not late:
            # Skip empty periods in one step, up to the boundary before the next session starts.
            upcoming = [s.started_at for s in sessions if s.started_at >= end]
            target = min(upcoming) if upcoming else cutoff
            end = max(end, periods.at_or_before(target))
            if invoice_now and not upcoming:
                end = cutoff
        else:
            if created:
                db.flush()  # the lines of earlier periods are what invoiced_so_far() reads
            created.extend(_invoice_period(db, renter, in_period, late, start, end, now, prefix))
            late = []
        renter.invoiced_until = end
    due = periods.after(renter.invoiced_until)
    renter.next_invoice_at = None if due == NEVER else due
    return created


def _invoice_period(
    db: Session,
    renter: Renter,
    sessions: list[RentalSession],
    late: list[RentalSession],
    start: datetime,
    end: datetime,
    now: datetime,
    prefix: str,
) -> list[Invoice]:
    """One invoice per currency for [start, end): the sessions' usage in the period, plus adjustments for
    usage that arrived after earlier invoices were final. None when there is nothing to bill."""
    lines_by_currency: dict[str, list[tuple[billing.InvoiceLine, Confidence]]] = defaultdict(list)
    for rental in sorted({*sessions, *late}, key=lambda s: (s.started_at, s.id)):
        earlier = rental.started_at < start  # else nothing of it was rated or invoiced before
        opening, before = (
            cumulative_usage(db, rental, start, with_gap_line=True) if earlier else (billing.Usage(), [])
        )
        usage, through = cumulative_usage(db, rental, end, with_gap_line=True)
        if rental.ended_at is not None and rental.ended_at <= end:  # its final cost, for the live view too
            final = billing.build_lines(rental.id, through)
            rental.cost_minor = billing.invoice_total(final, rental.plan.currency).minor
            rental.covered_us = usage.covered_us
        invoiced = invoiced_so_far(db, rental.id) if earlier else {}
        lines = billing.period_lines(rental.id, before, through, invoiced, in_period=rental in sessions)
        covered = usage.covered_us - opening.covered_us
        known = [(line, line_confidence(line, rental, start, end, covered)) for line in lines]
        lines_by_currency[rental.plan.currency].extend(known)
    invoices = []
    for currency, annotated in lines_by_currency.items():
        if not annotated:
            continue
        lines = [line for line, _ in annotated]
        invoice = Invoice(
            id="inv-" + secrets.token_hex(8),
            number=next_number(db, prefix),
            renter_id=renter.id,
            currency=currency,
            period_start=start,
            period_end=end,
            issued_at=now,
            time_zone=renter.time_zone,
            total_minor=billing.invoice_total(lines, currency).minor,
            lines=[_line_row(position, line, known) for position, (line, known) in enumerate(annotated)],
        )
        db.add(invoice)
        invoices.append(invoice)
        _charge(db, renter, invoice, lines, now)
        _announce(db, renter, invoice, now)
        total = billing.Money(invoice.total_minor, currency)
        logger.info(
            "invoice %s for renter %s, %s to %s: %s",
            invoice.id,
            renter.id,
            start.isoformat(),
            end.isoformat(),
            total,
        )
    return invoices


def _charge(
    db: Session, renter: Renter, invoice: Invoice, lines: list[billing.InvoiceLine], now: datetime
) -> None:
    """Post the invoice to the ledger: its total from the renter's wallet (prepaid) or as owed."""
    currency = invoice.currency
    taxes: dict[str, billing.Money] = {}
    for line in lines:
        if line.meter.startswith("tax:"):
            name = line.meter.removeprefix("tax:")
            taxes[name] = taxes.get(name, billing.Money.zero(currency)) + line.amount
    net = invoice.total_minor - sum(t.minor for t in taxes.values())
    if invoice.total_minor or net:
        transaction = ledger.invoice_charge(
            renter.id, invoice.id, billing.Money(net, currency), taxes, prepaid=renter.prepaid
        )
        post(db, transaction, f"invoice:{invoice.id}", now)
    if renter.prepaid:
        invoice.paid_at = now  # taken from the wallet


def _announce(db: Session, renter: Renter, invoice: Invoice, now: datetime) -> None:
    """The provider's webhook, and the renter's e-mail with the PDF when the renter has an address."""
    total = billing.Money(invoice.total_minor, invoice.currency)
    enqueue_webhook(db, "invoice.issued", {
        "invoice_id": invoice.id, "number": invoice.number, "renter": renter.id, "currency": invoice.currency,
        "total_minor": invoice.total_minor, "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(), "prepaid": renter.prepaid,
    }, now)  # fmt: skip
    if renter.email:
        period = period_text(invoice.period_start, invoice.period_end, invoice.time_zone)
        text = f"Invoice {invoice.number} for {period}: {total}. The invoice is attached."
        enqueue_email(db, "invoice.issued", renter.email, f"Invoice {invoice.number}: {total}", text, now,
                      invoice_id=invoice.id)  # fmt: skip


def next_number(db: Session, prefix: str) -> str:
    """The issuer's next invoice number. The counter row is locked until the transaction ends, and rolls
    back with it, so numbers have no gaps."""
    counter = db.get(InvoiceCounter, prefix, with_for_update=True)
    if counter is None:
        counter = InvoiceCounter(prefix=prefix, last_number=0)
        db.add(counter)
    counter.last_number += 1
    return f"{prefix}-{counter.last_number:06d}"


def invoiced_so_far(db: Session, session_id: str) -> dict[str, billing.Invoiced]:
    """Per meter, the quantity and amount that final invoices already charged for a session."""
    totals: dict[str, billing.Invoiced] = {}
    query = select(InvoiceLine.meter, InvoiceLine.quantity, InvoiceLine.amount_minor).where(
        InvoiceLine.session_id == session_id
    )
    for meter, quantity, minor in db.execute(query):
        done = totals.get(meter, billing.Invoiced(Decimal(0), 0))
        totals[meter] = billing.Invoiced(done.quantity + Decimal(quantity), done.minor + minor)
    return totals


def line_confidence(
    line: billing.InvoiceLine, rental: RentalSession, start: datetime, end: datetime, covered_us: int
) -> Confidence:
    """How a session's line for [start, end) was obtained: usage lines are measured over the session's
    stretch in the period (`covered_us` of it covered by reports), the gap line counts the seconds without
    reports, late usage and credits are adjustments."""
    basis = confidence.line_basis(line.meter, line.description)
    if basis == confidence.GAP:
        return Confidence(basis, 0, int(line.quantity.scaleb(6)))
    if basis == confidence.ADJUSTED:
        return Confidence(basis)
    stretch = min(end, rental.ended_at or end) - max(start, rental.started_at)
    span_us = max(stretch // timedelta(microseconds=1), 0)
    return Confidence(basis, covered_us, max(span_us - covered_us, 0))


def _line_row(position: int, line: billing.InvoiceLine, known: Confidence) -> InvoiceLine:
    return InvoiceLine(
        basis=known.basis,
        covered_us=known.covered_us,
        uncovered_us=known.uncovered_us,
        position=position,
        session_id=line.reference,
        meter=line.meter,
        description=line.description,
        quantity=billing.plain(line.quantity),
        unit=line.unit,
        rate=format(line.rate, "f"),
        rate_unit=line.rate_unit,
        amount_minor=line.amount.minor,
    )


def get_invoice(db: Session, reference: str) -> Invoice | None:
    """The invoice with this id (`inv-...`) or this number (`RM-000001`, as printed on it)."""
    return db.get(Invoice, reference) or db.scalar(select(Invoice).where(Invoice.number == reference))


def list_invoices(db: Session, renter_id: str = "") -> list[Invoice]:
    query = select(Invoice).order_by(Invoice.period_start, Invoice.id)
    if renter_id:
        query = query.where(Invoice.renter_id == renter_id)
    return list(db.scalars(query))


# Renters invoiced per transaction by the scheduled job: bounds memory and lock time at month end, and
# each committed batch is done for good if the collector stops half-way.
INVOICE_BATCH = 1000


async def close_due_invoices(
    database: Database, now: datetime, *, period: timedelta, grace: timedelta, prefix: str
) -> JobOutcome:
    """The invoicing job: close every due period of every renter, INVOICE_BATCH renters per transaction,
    each renter on its own (one renter's failure is recorded and retried later; the others are invoiced)."""
    renters = await database.run(renters_due, now, grace)
    outcome = JobOutcome(INVOICING_JOB)
    made = 0
    for first in range(0, len(renters), INVOICE_BATCH):
        batch = renters[first : first + INVOICE_BATCH]

        def close_batch(db: Session, batch: list[str] = batch) -> int:
            run = JobRun(db, INVOICING_JOB, now)
            invoices = close_invoices(
                db, now, period=period, grace=grace, renter_ids=batch, prefix=prefix, run=run
            )
            outcome.add(run.outcome)
            return len(invoices)

        made += await database.run(close_batch)
    if made:
        logger.info("closed %d invoices", made)
    outcome.produced = made
    return outcome
