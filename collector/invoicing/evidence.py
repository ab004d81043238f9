"""The evidence behind an invoice line: the signed reports exactly as received (payload bytes and
signatures), the machine's keys and enrollment facts, the plan's documents and the session's terms, as one
JSON bundle that collector/invoicing/evidence_check.py (and `rentmeter verify-evidence`) checks offline.

A line of a session for an invoice period is the difference of the session's cumulative charges at the
period's end and start, so the bundle holds every report of the machine from the session's start to the
end of the period (or of the session), and the sequence numbers the collector refused in that range (they
were never stored, so their absence is no hole).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.core.clock import to_us
from collector.db.models import Invoice, InvoiceLine, Machine, RentalSession, Report, ReportRejection
from collector.invoicing.evidence_check import FORMAT


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def _machine(machine: Machine) -> dict[str, Any]:
    return {
        "agent_id": machine.agent_id,
        "enrolled_at": machine.enrolled_at.isoformat(),
        "machine_class": machine.machine_class,
        "facts": machine.facts or {},
        "public_key": _b64(machine.public_key),
        "previous_public_key": _b64(machine.previous_public_key),
        "previous_key_until_sequence": machine.previous_key_until_sequence,
    }


def _session(rental: RentalSession) -> dict[str, Any]:
    return {
        "id": rental.id,
        "renter": rental.renter_id,
        "started_at": rental.started_at.isoformat(),
        "ended_at": rental.ended_at.isoformat() if rental.ended_at else None,
        "machine_class": rental.machine_class,
        "service_level": rental.service_level,
        "member_tier": rental.member_tier,
        "coupon": rental.coupon,
        "resources": {name: str(quantity) for name, quantity in (rental.resources or {}).items()},
        "price_locks": list(rental.price_locks or []),
    }


def _reports(db: Session, rental: RentalSession, until_us: int) -> tuple[list[dict[str, Any]], list[int]]:
    rows = db.scalars(
        select(Report)
        .where(
            Report.agent_id == rental.agent_id,
            Report.start_us < until_us,
            Report.end_us > to_us(rental.started_at),
        )
        .order_by(Report.sequence)
    ).all()
    reports = [
        {"sequence": r.sequence, "payload": _b64(r.payload), "signature": _b64(r.signature)} for r in rows
    ]
    if not rows:
        return reports, []
    refused = db.scalars(
        select(ReportRejection.sequence).where(
            ReportRejection.agent_id == rental.agent_id,
            ReportRejection.sequence.between(rows[0].sequence, rows[-1].sequence),
        )
    )
    return reports, sorted(set(refused))


def build_bundle(db: Session, invoice: Invoice, line: InvoiceLine) -> dict[str, Any]:
    """The evidence bundle of one invoice line (see the module's docstring)."""
    rental = db.get_one(RentalSession, line.session_id)
    until = min(invoice.period_end, rental.ended_at or invoice.period_end)
    reports, refused = _reports(db, rental, to_us(until))
    return {
        "format": FORMAT,
        "invoice": {
            "id": invoice.id, "number": invoice.number, "renter": invoice.renter_id,
            "currency": invoice.currency, "period_start": invoice.period_start.isoformat(),
            "period_end": invoice.period_end.isoformat(), "issued_at": invoice.issued_at.isoformat(),
        },
        "line": {
            "position": line.position, "meter": line.meter, "description": line.description,
            "quantity": line.quantity, "unit": line.unit, "amount_minor": line.amount_minor,
            "basis": line.basis, "covered_us": line.covered_us, "uncovered_us": line.uncovered_us,
        },
        "session": _session(rental),
        "plan": {
            "name": rental.plan.name,
            "versions": [{"number": v.number, "effective_from": v.effective_from.isoformat(),
                          "document": v.document} for v in rental.plan.versions],
        },
        "machine": _machine(db.get_one(Machine, rental.agent_id)),
        "reports": reports,
        "rejected_sequences": refused,
    }  # fmt: skip


def bundle_text(bundle: dict[str, Any]) -> str:
    """The bundle as the file a renter keeps: JSON, keys sorted, two-space indents."""
    return json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
