"""Renter accounts: created on first use; billing cycle, time zone and e-mail address set by the provider."""

from __future__ import annotations

import functools
import logging
import re
import zoneinfo
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.cycles import CYCLES
from collector.core.errors import InvalidArgument, NotFound
from collector.db.models import Renter

logger = logging.getLogger(__name__)

PAYMENT_METHODS = ("", "stripe")
# Pay as you go: invoiced for each session when it ends.
PER_SESSION = "session"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Names the time zone database lists that are not a place: the host's own zone, and a placeholder.
_NOT_A_PLACE = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_A_PLACE


def check_time_zone(name: str) -> str:
    """`name` when it is an IANA time zone such as Asia/Shanghai or UTC, or "" (none: UTC as before)."""
    if name and name not in _time_zones():
        shown = name if len(name) <= 64 else name[:64] + "…"
        raise InvalidArgument(f"time_zone: {shown!r} is not an IANA time zone such as Asia/Shanghai or UTC")
    return name


def renter_zone(renter: Renter) -> tzinfo | None:
    """The zone of the renter's billing periods; None for a renter without one (UTC, anchor's time)."""
    return zoneinfo.ZoneInfo(renter.time_zone) if renter.time_zone else None


def get_renter(db: Session, renter_id: str) -> Renter:
    renter = db.get(Renter, renter_id)
    if renter is None:
        raise NotFound("renter", renter_id)
    return renter


def list_renters(db: Session, *, query: str = "", after: str = "", limit: int = 100) -> list[Renter]:
    """Renters by id: `limit` of them after `after` ("": from the first), only those whose id contains
    `query` ("": all)."""
    found = select(Renter).order_by(Renter.id).limit(limit)
    if after:
        found = found.where(Renter.id > after)
    if query:
        found = found.where(Renter.id.contains(query, autoescape=True))
    return list(db.scalars(found))


def get_or_create_renter(db: Session, renter_id: str, now: datetime) -> Renter:
    """The renter, created (invoiced from `now`) on its first use; locked for this transaction."""
    renter_id = renter_id.strip()
    if not renter_id or len(renter_id) > 100:
        raise InvalidArgument("renter must be 1 to 100 characters")
    renter = db.get(Renter, renter_id, with_for_update=True)
    if renter is None:
        renter = Renter(id=renter_id, created_at=now, invoiced_until=now)
        db.add(renter)
        db.flush()
    return renter


def update_renter(
    db: Session,
    renter_id: str,
    now: datetime,
    *,
    billing_cycle: str | None = None,
    cycle_anchor: datetime | None = None,
    email: str | None = None,
    payment_method: str | None = None,
    payment_customer: str | None = None,
    payment_source: str | None = None,
    time_zone: str | None = None,
) -> Renter:
    """Set a renter's billing cycle and time zone (from its open period on: it ends at the next boundary
    of the new cycle), e-mail address and payment method."""
    renter = get_or_create_renter(db, renter_id, now)
    if billing_cycle is not None:
        if billing_cycle not in ("", *CYCLES, PER_SESSION):
            allowed = ", ".join((*CYCLES, PER_SESSION))
            raise InvalidArgument(f"billing_cycle must be one of {allowed} (or empty), not {billing_cycle!r}")
        renter.billing_cycle = billing_cycle
        renter.next_invoice_at = None  # worked out again by the next invoicing run
    if cycle_anchor is not None:
        renter.cycle_anchor = cycle_anchor
        renter.next_invoice_at = None
    if time_zone is not None:
        renter.time_zone = check_time_zone(time_zone)
        renter.next_invoice_at = None
    if email is not None:
        if email and not _EMAIL.match(email):
            raise InvalidArgument(f"email: {email!r} is not an e-mail address")
        renter.email = email
    if payment_method is not None:
        if payment_method not in PAYMENT_METHODS:
            raise InvalidArgument(
                f"payment_method must be '' (bank transfer) or stripe, not {payment_method!r}"
            )
        renter.payment_method = payment_method
    for field, value in (("payment_customer", payment_customer), ("payment_source", payment_source)):
        if value is not None:
            if len(value) > 100:
                raise InvalidArgument(f"{field}: at most 100 characters")
            setattr(renter, field, value)
    if renter.payment_method and not (renter.payment_customer and renter.payment_source):
        raise InvalidArgument(
            f"payment_method {renter.payment_method}: give payment_customer and payment_source"
        )
    logger.info(
        "renter %s: billing cycle %s, time zone %s",
        renter.id,
        renter.billing_cycle or "default",
        renter.time_zone or "UTC",
    )
    return renter


def session_ended(db: Session, renter_id: str, now: datetime) -> None:
    """A pay-as-you-go renter is invoiced for a session once it has ended (and the grace has passed)."""
    renter = db.get(Renter, renter_id)
    if renter is not None and renter.billing_cycle == PER_SESSION:
        renter.next_invoice_at = now
