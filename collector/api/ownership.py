"""Ownership checks of the servicers: another account's object answers NOT_FOUND, as if absent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from collector.api import authorization
from collector.core.errors import NotFound
from collector.db.models import Invoice, Machine, RentalSession
from collector.invoicing.invoices import get_invoice
from collector.sessions.rentals import (
    get_machine,
    get_session,
)


def own_machine(db: Session, agent_id: str, who: authorization.Principal) -> Machine:
    """The machine, when the caller may see it (its host, or an admin); else NOT_FOUND."""
    machine = get_machine(db, agent_id)
    authorization.hide_unless(who.may_see_host(machine.host_id), "machine", agent_id)
    return machine


def own_session(db: Session, session_id: str, who: authorization.Principal) -> RentalSession:
    """The session, when the caller is its renter, its machine's host, or an admin; else NOT_FOUND."""
    rental = get_session(db, session_id)
    visible = who.may_see_renter(rental.renter_id) or who.may_see_host(rental.machine.host_id)
    authorization.hide_unless(visible, "session", session_id)
    return rental


def own_invoice(db: Session, invoice_id: str, who: authorization.Principal) -> Invoice:
    invoice = get_invoice(db, invoice_id)
    if invoice is None or not who.may_see_renter(invoice.renter_id):
        raise NotFound("invoice", invoice_id)  # as authorization.hide_unless: as if it did not exist
    return invoice
