"""Disputes of invoice lines: opened by the renter within the plan's dispute window, with the evidence
bundle and its re-rating attached at once; resolved by the provider with a credit note or a reasoned
rejection. Opening and resolving are written to the audit log with the bundle's SHA-256."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from collector.accounts import audit
from collector.core.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.db.models import CreditNote, Dispute, Invoice, InvoiceLine, RentalSession
from collector.delivery.outbox import enqueue_webhook
from collector.invoicing.credit_notes import credit_invoice
from collector.invoicing.evidence import build_bundle, bundle_text
from collector.invoicing.evidence_check import ReportReading, check_bundle
from collector.invoicing.invoices import get_invoice
from collector.sessions.plans import versions_of

logger = logging.getLogger(__name__)

OPEN, CREDITED, REJECTED = "open", "credited", "rejected"
DECISIONS = {"credit": CREDITED, "reject": REJECTED}
MAX_REASON = 1000
MAX_LISTED = 1000


def dispute_window(db: Session, line: InvoiceLine) -> timedelta:
    """How long after its invoice the line can be disputed: its session's plan's `dispute_window` (the
    version in force at the session's start)."""
    rental = db.get_one(RentalSession, line.session_id)
    versions = versions_of(rental.plan)
    rule = versions[billing.version_at(versions, rental.started_at)].assurance
    return timedelta(microseconds=rule.dispute_window_us)


def _reason(text: str, what: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_REASON:
        raise InvalidArgument(f"reason is required (1 to {MAX_REASON} characters): {what}")
    return text


def open_dispute(
    db: Session, invoice_ref: str, position: int, reason: str, actor: str, now: datetime,
    reading: ReportReading,
) -> Dispute:  # fmt: skip
    """Dispute line `position` of an invoice: the evidence is gathered and re-rated now (`reading`: the
    wire contract of signed reports, collector/api/evidence_wire.py)."""
    reason = _reason(reason, "say what is wrong with the line")
    invoice = get_invoice(db, invoice_ref)
    if invoice is None:
        raise NotFound("invoice", invoice_ref)
    line = next((x for x in invoice.lines if x.position == position), None)
    if line is None:
        raise InvalidArgument(
            f"invoice {invoice.number} has no line {position} (it has {len(invoice.lines)})"
        )
    window = dispute_window(db, line)
    if now > invoice.issued_at + window:
        raise FailedPrecondition(
            f"invoice {invoice.number} can no longer be disputed: its dispute window of {window.days} days"
            f" ended {(invoice.issued_at + window).isoformat()}"
        )
    if db.scalar(select(Dispute.id).where(Dispute.line_id == line.id, Dispute.status == OPEN)) is not None:
        raise FailedPrecondition(f"line {position} of invoice {invoice.number} is already disputed")
    text = bundle_text(build_bundle(db, invoice, line))
    verdict = check_bundle(text, reading)
    dispute = Dispute(
        id="dsp-" + secrets.token_hex(8), invoice_id=invoice.id, line_id=line.id, renter_id=invoice.renter_id,
        opened_at=now, opened_by=actor, reason=reason, status=OPEN, evidence=text,
        rerated_minor=verdict.rerated_minor, report_count=verdict.reports,
    )  # fmt: skip
    db.add(dispute)
    details = {"dispute": dispute.id, "invoice": invoice.number, "line": position, "reason": reason,
               "evidence_sha256": hashlib.sha256(text.encode()).hexdigest(), "reports": verdict.reports,
               "line_minor": line.amount_minor, "rerated_minor": verdict.rerated_minor}  # fmt: skip
    audit.record(db, actor, "dispute.open", details, now)
    enqueue_webhook(db, "dispute.opened", details, now)
    logger.info("dispute %s opened on line %d of invoice %s", dispute.id, position, invoice.number)
    return dispute


def get_dispute(db: Session, dispute_id: str) -> Dispute:
    dispute = db.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("dispute", dispute_id)
    return dispute


def list_disputes(db: Session, renter_id: str = "") -> list[Dispute]:
    """Disputes of a renter ("": all), newest first (at most MAX_LISTED)."""
    query = select(Dispute).order_by(Dispute.opened_at.desc(), Dispute.id).limit(MAX_LISTED)
    if renter_id:
        query = query.where(Dispute.renter_id == renter_id)
    return list(db.scalars(query))


def default_credit(db: Session, dispute: Dispute) -> int:
    """What a credit gives back unless told: what the line charged beyond its re-rating, else the line."""
    line = db.get_one(InvoiceLine, dispute.line_id)
    excess = line.amount_minor - dispute.rerated_minor
    return excess if excess > 0 else line.amount_minor


def resolve_dispute(
    db: Session, dispute_id: str, decision: str, amount: billing.Money | None, reason: str, actor: str,
    now: datetime,
) -> Dispute:  # fmt: skip
    """Credit (a credit note of `amount`, default default_credit()) or reject, with a reason."""
    if decision not in DECISIONS:
        raise InvalidArgument(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    reason = _reason(reason, "it is shown to the renter")
    dispute = db.get(Dispute, dispute_id, with_for_update=True)
    if dispute is None:
        raise NotFound("dispute", dispute_id)
    if dispute.status != OPEN:
        raise FailedPrecondition(f"dispute {dispute.id} is already {dispute.status}")
    note: CreditNote | None = None
    if decision == "credit":
        invoice = db.get_one(Invoice, dispute.invoice_id)
        money = amount or billing.Money(default_credit(db, dispute), invoice.currency)
        note = credit_invoice(db, invoice.id, money, f"dispute {dispute.id}: {reason}", now)
        dispute.credit_note_id = note.id
    dispute.status, dispute.resolution = DECISIONS[decision], reason
    dispute.resolved_at, dispute.resolved_by = now, actor
    details = {
        "dispute": dispute.id,
        "decision": dispute.status,
        "reason": reason,
        "credit_note": note.number if note else "",
        "amount_minor": note.amount_minor if note else 0,
    }
    audit.record(db, actor, "dispute.resolve", details, now)
    enqueue_webhook(db, "dispute.resolved", details, now)
    logger.info("dispute %s %s by %s", dispute.id, dispute.status, actor)
    return dispute
