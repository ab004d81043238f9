"""A renter's data: exported in full, or erased except what invoices must keep by law.

Export: the account, its sign-in accounts, sessions with their usage, invoices with their lines, credit
notes, payments and the wallet's ledger entries, as one JSON document. Erase: the e-mail address, payment
references, API tokens and sign-in accounts (with their profiles and password hashes) go; the OS login
names in the signed reports of the renter's sessions are removed (with the payload and signature that
contain them); its usage profile, plan recommendation and offers are deleted and none is made again
(the renter is marked erased); invoices, credit notes, payments and the ledger stay (the law keeps them).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from billing import ledger
from collector.accounts.renters import get_renter
from collector.core.clock import to_us
from collector.db.models import (
    Account,
    ApiToken,
    CreditNote,
    Invoice,
    LedgerEntry,
    LedgerTransaction,
    Offer,
    PasswordReset,
    Payment,
    PlanRecommendation,
    RentalSession,
    RenterProfile,
    Report,
)
from collector.metering.usage import usage_summary

logger = logging.getLogger(__name__)


def export_renter(db: Session, renter_id: str, now: datetime) -> dict[str, Any]:
    renter = get_renter(db, renter_id)
    sessions = list(db.scalars(select(RentalSession).where(RentalSession.renter_id == renter_id)))
    invoices = list(
        db.scalars(select(Invoice).where(Invoice.renter_id == renter_id).order_by(Invoice.issued_at))
    )
    accounts = [ledger.wallet(renter_id), ledger.hold(renter_id), ledger.receivable(renter_id)]
    entries = db.execute(
        select(LedgerTransaction, LedgerEntry)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.account.in_(accounts))
        .order_by(LedgerEntry.id)
    )

    def usage(rental: RentalSession) -> dict[str, Any]:
        summary = usage_summary(db, rental.agent_id, to_us(rental.started_at), to_us(rental.ended_at or now))
        return {
            "covered_us": summary.covered_us,
            "cpu_busy_us": summary.cpu_busy_us,
            "net_rx_bytes": summary.net_rx_bytes,
            "net_tx_bytes": summary.net_tx_bytes,
        }

    return {
        "exported_at": now.isoformat(),
        "renter": {
            "id": renter.id,
            "created_at": renter.created_at.isoformat(),
            "email": renter.email,
            "prepaid": renter.prepaid,
            "billing_cycle": renter.billing_cycle,
            "time_zone": renter.time_zone,
            "payment_method": renter.payment_method,
        },
        "sign_in_accounts": [
            {
                "name": a.name,
                "display_name": a.display_name,
                "email": a.email,
                "locale": a.locale,
                "time_zone": a.time_zone,
                "disabled": a.disabled,
                "created_at": a.created_at.isoformat(),
                "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None,
            }
            for a in _sign_in_accounts(db, renter_id)
        ],
        "sessions": [
            {
                "id": s.id,
                "machine": s.agent_id,
                "plan": s.plan.name,
                "machine_class": s.machine_class,
                "started_at": s.started_at.isoformat(),
                "ended_at": s.ended_at.isoformat() if s.ended_at else None,
                "cost_minor": s.cost_minor,
                "currency": s.plan.currency,
                "usage": usage(s),
            }
            for s in sessions
        ],
        "invoices": [
            {
                "id": i.id,
                "number": i.number,
                "period_start": i.period_start.isoformat(),
                "period_end": i.period_end.isoformat(),
                "currency": i.currency,
                "total_minor": i.total_minor,
                "paid_at": i.paid_at.isoformat() if i.paid_at else None,
                "lines": [
                    {
                        "session": line.session_id,
                        "item": line.description,
                        "quantity": line.quantity,
                        "unit": line.unit,
                        "amount_minor": line.amount_minor,
                    }
                    for line in i.lines
                ],
            }
            for i in invoices
        ],
        "credit_notes": [
            {"number": c.number, "invoice": c.invoice_id, "amount_minor": c.amount_minor, "reason": c.reason}
            for c in db.scalars(select(CreditNote).where(CreditNote.renter_id == renter_id))
        ],
        "payments": [
            {
                "invoice": p.invoice_id,
                "provider": p.provider,
                "amount_minor": p.amount_minor,
                "succeeded": p.succeeded,
                "reference": p.reference,
                "at": p.created_at.isoformat(),
            }
            for p in db.scalars(select(Payment).where(Payment.renter_id == renter_id).order_by(Payment.id))
        ],
        "ledger": [
            {
                "transaction": t.id,
                "kind": t.kind,
                "reference": t.reference,
                "account": e.account,
                "amount_minor": e.amount_minor,
                "currency": e.currency,
                "at": t.created_at.isoformat(),
            }
            for t, e in entries
        ],
    }


def erase_renter(db: Session, renter_id: str, now: datetime) -> int:
    """Erase what the law does not require to keep; return how many reports lost their login names."""
    renter = get_renter(db, renter_id)
    renter.email = ""
    renter.payment_method = renter.payment_customer = renter.payment_source = ""
    renter.erased_at = now
    for insight in (RenterProfile, PlanRecommendation, Offer):
        db.execute(delete(insight).where(insight.renter_id == renter_id))
    db.execute(delete(ApiToken).where(ApiToken.role == "renter", ApiToken.subject == renter_id))
    for account in _sign_in_accounts(db, renter_id):
        db.execute(delete(PasswordReset).where(PasswordReset.account_id == account.id))
        db.delete(account)
    spans = [
        (s.agent_id, to_us(s.started_at), to_us(s.ended_at or now))
        for s in db.scalars(select(RentalSession).where(RentalSession.renter_id == renter_id))
    ]
    cleared = 0
    for agent_id, start, end in spans:
        # An ORM UPDATE returns a CursorResult; Session.execute is typed Result (sqlalchemy#12913).
        cleared += (
            db.execute(
                update(Report)
                .where(
                    Report.agent_id == agent_id,
                    Report.start_us < end,
                    Report.end_us > start,
                    Report.payload != b"",
                )
                .values(logins={}, payload=b"", signature=b"")
            ).rowcount  # type: ignore[attr-defined]
            or 0
        )
    logger.info(
        "renter %s erased: contact, payment references, tokens, accounts, insights; %d reports cleared",
        renter_id,
        cleared,
    )
    return cleared


def _sign_in_accounts(db: Session, renter_id: str) -> list[Account]:
    """The accounts that sign in as the renter."""
    query = select(Account).where(Account.role == "renter", Account.subject == renter_id).order_by(Account.id)
    return list(db.scalars(query))
