"""Price plans in the database: named, versioned plan documents, parsed into the billing domain."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import billing
from collector.core.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from collector.db.models import Invoice, InvoiceLine, PlanVersion, PricePlan, RentalSession

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def parse_document(document: str) -> billing.PricePlan:
    """The plan version a stored document describes (parsed once per distinct document). Read without the
    checks of new documents, so that a plan stored before a limit existed keeps its meaning."""
    try:
        return billing.parse_plan(document, strict=False)
    except billing.InvalidPlan as exc:
        raise InvalidArgument(f"invalid price plan: {exc}") from None


def check_document(document: str) -> billing.PricePlan:
    """The plan version a submitted document describes, held to every rule of new documents: numbers
    within their limits, no overlapping windows of the same priority (InvalidArgument with the line)."""
    try:
        return billing.parse_plan(document, strict=True)
    except billing.InvalidPlan as exc:
        raise InvalidArgument(f"invalid price plan: {exc}") from None


def versions_of(plan: PricePlan) -> list[billing.PricePlan]:
    """The plan's versions in the billing domain, oldest first."""
    return [parse_document(v.document) for v in plan.versions]


def create_plan(db: Session, document: str, now: datetime) -> PricePlan:
    """Store a plan from its first version's document. Raises AlreadyExists when the name is taken."""
    version = check_document(document)
    if db.scalar(select(PricePlan.id).where(PricePlan.name == version.name)) is not None:
        raise AlreadyExists(f"price plan {version.name!r} already exists")
    row = PricePlan(name=version.name, currency=version.currency, created_at=now)
    row.versions.append(
        PlanVersion(number=1, effective_from=version.effective_from, document=document, created_at=now)
    )
    db.add(row)
    try:
        db.flush()
    except IntegrityError:
        raise AlreadyExists(f"price plan {version.name!r} already exists") from None
    logger.info("price plan %s created", version.name)
    return row


def add_version(db: Session, name: str, document: str, now: datetime) -> PricePlan:
    """Add a version taking effect at its document's effective_from: later than every earlier version and
    after every invoiced period of the plan's sessions, so that no final invoice would change."""
    plan = get_plan(db, name, for_update=True)
    version = check_document(document)
    if version.name != plan.name or version.currency != plan.currency:
        raise InvalidArgument(
            f"a new version of {plan.name!r} must keep its name and currency ({plan.currency})"
        )
    latest = max(v.effective_from for v in plan.versions)
    if version.effective_from <= latest:
        raise FailedPrecondition(
            f"effective_from must be later than the latest version's ({latest.isoformat()})"
        )
    invoiced_until = db.scalar(
        select(func.max(Invoice.period_end))
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .join(RentalSession, RentalSession.id == InvoiceLine.session_id)
        .where(RentalSession.plan_id == plan.id)
    )
    if invoiced_until is not None and version.effective_from < invoiced_until:
        raise FailedPrecondition(
            f"sessions of {plan.name!r} are invoiced until {invoiced_until.isoformat()}: "
            "a new version must take effect after that"
        )
    number = len(plan.versions) + 1
    plan.versions.append(
        PlanVersion(number=number, effective_from=version.effective_from, document=document, created_at=now)
    )
    db.flush()
    logger.info("price plan %s: version %d from %s", name, number, version.effective_from.isoformat())
    return plan


def get_plan(db: Session, name: str, *, for_update: bool = False) -> PricePlan:
    query = select(PricePlan).where(PricePlan.name == name)
    if for_update:
        query = query.with_for_update()
    row = db.scalar(query)
    if row is None:
        raise NotFound("price plan", name)
    return row


def list_plans(db: Session) -> list[PricePlan]:
    return list(db.scalars(select(PricePlan).order_by(PricePlan.name)))
